import GroveCredentials

/// What the SSH server asks of Grove: who may log in as a user name, and what to start for a session. The server
/// speaks the protocol; the gate knows users, projects, environments and sandboxes.
public protocol SSHGate: Sendable {
    /// The login for `attempt`, or nil to refuse it. Called once per offered key, after the client proved it holds it
    /// (and, for a certificate, after its signature, validity and type were checked against the trusted authorities).
    func authenticate(_ attempt: SSHLoginAttempt) async -> SSHLogin?
    /// Starts what `request` asks with `stdio` as its standard streams (the server closes its copies afterwards).
    /// Throws `SSHRefusal` to refuse with a message the client sees.
    func start(_ request: SSHSessionRequest, login: SSHLogin, stdio: SSHStdio) async throws -> SSHRunning
    /// Where a `direct-tcpip` channel to `host:port` (as the client names it) may connect, or throws `SSHRefusal`.
    func tunnel(to host: String, port: Int, login: SSHLogin) async throws -> (host: String, port: Int)
    /// Every user name that names something to log into (applications' targets and projects' repositories): the
    /// OpenSSH front gives each an account, since sshd refuses names it has none for before it asks for keys.
    func accountNames() async -> Set<String>
    /// The service endpoints a session of `target` may tunnel to, whoever logged in (roles were checked at login).
    func endpoints(target: String) async -> [SSHEndpoint]
}

/// A service endpoint as an application's relationships name it, and where Grove's host reaches it.
public struct SSHEndpoint: Sendable, Hashable {
    public let host: String
    public let port: Int
    public let reachHost: String

    public init(host: String, port: Int, reachHost: String) {
        self.host = host; self.port = port; self.reachHost = reachHost
    }
}

/// A running SSH server: the built-in one or OpenSSH's.
public protocol SSHListener: Sendable {
    /// The port it listens on.
    var port: Int { get }
    func stop() async
}

/// A key offered for a user name.
public struct SSHLoginAttempt: Sendable {
    public let username: String
    /// The key itself (for a certificate: the certified key).
    public let key: SSHPublicKey
    /// Present when the key came with a certificate signed by a trusted authority and valid now.
    public let certificate: SSHCertificateClaims?

    public init(username: String, key: SSHPublicKey, certificate: SSHCertificateClaims?) {
        self.username = username; self.key = key; self.certificate = certificate
    }
}

/// What a valid certificate says.
public struct SSHCertificateClaims: Sendable {
    public let keyId: String
    public let principals: [String]
    public let extensions: [String: String]

    public init(keyId: String, principals: [String], extensions: [String: String]) {
        self.keyId = keyId; self.principals = principals; self.extensions = extensions
    }
}

/// Who logged in, as the gate decided; handed back with every session of the connection.
public struct SSHLogin: Sendable {
    public let userId: String
    public let username: String
    /// The certificate's extensions, or empty for a plain key.
    public let extensions: [String: String]
    public let viaCertificate: Bool

    public init(userId: String, username: String, extensions: [String: String], viaCertificate: Bool) {
        self.userId = userId; self.username = username; self.extensions = extensions; self.viaCertificate = viaCertificate
    }
}

/// One session channel's request: a shell (no command), a command, or a subsystem, with the variables and the
/// terminal the client asked for.
public struct SSHSessionRequest: Sendable {
    public enum Kind: Sendable, Equatable { case shell, exec(String), subsystem(String) }
    public let kind: Kind
    public let environment: [String: String]
    public let terminal: SSHTerminal?
}

public struct SSHTerminal: Sendable {
    public let term: String
    public let columns: Int
    public let rows: Int
}

/// The descriptors a session's process gets as stdin, stdout and stderr (the same terminal for all three with a PTY).
public struct SSHStdio: Sendable {
    public let stdin: Int32
    public let stdout: Int32
    public let stderr: Int32
    public let terminal: Bool
}

/// A started session process.
public struct SSHRunning: Sendable {
    /// Waits for the exit status (128 + signal when killed).
    public let wait: @Sendable () async -> Int32
    /// Sends a signal to the session's processes.
    public let signal: @Sendable (Int32) -> Void

    public init(wait: @escaping @Sendable () async -> Int32, signal: @escaping @Sendable (Int32) -> Void) {
        self.wait = wait; self.signal = signal
    }
}

/// A refusal the client is told about (on stderr, exit status 1).
public struct SSHRefusal: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
