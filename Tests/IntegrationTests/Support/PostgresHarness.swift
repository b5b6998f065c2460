import Foundation

/// A throwaway PostgreSQL for the test run: `GROVE_TEST_DATABASE_URL` when given (a database is created per server
/// through it), else a private cluster made with initdb + pg_ctl from the installed packages on a free port.
actor PostgresHarness {
    static let shared = PostgresHarness()
    private var adminURL: String?
    private var counter = 0
    private var dataDir: String?

    func newDatabase() async throws -> String {
        let admin = try await ensure()
        counter += 1
        let name = "grove_test_\(ProcessInfo.processInfo.processIdentifier)_\(counter)_\(Int.random(in: 0..<1_000_000))"
        let (status, out) = try Self.run(Self.binary("psql"), [admin, "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"], asPostgres: false)
        guard status == 0 else { throw TestFailure("cannot create database: \(out)") }
        guard var comps = URLComponents(string: admin) else { throw TestFailure("bad admin URL") }
        comps.path = "/" + name
        return comps.string ?? admin
    }

    private func ensure() async throws -> String {
        if let adminURL { return adminURL }
        if let given = ProcessInfo.processInfo.environment["GROVE_TEST_DATABASE_URL"], !given.isEmpty {
            adminURL = given
            return given
        }
        let dir = "/tmp/grove-pg-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let root = geteuid() == 0
        if root { _ = try Self.run("/bin/chown", ["postgres:postgres", dir], asPostgres: false) }
        var (st, out) = try Self.run(Self.binary("initdb"), ["-D", dir + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], asPostgres: root)
        guard st == 0 else { throw TestFailure("initdb failed: \(out)") }
        // A free port can be taken by someone else before PostgreSQL binds it (test servers bind port 0 meanwhile): retry.
        var port = 0
        for attempt in 1...5 {
            port = try Self.freePort()
            (st, out) = try Self.run(Self.binary("pg_ctl"), ["-D", dir + "/data", "-l", dir + "/log", "-w", "-t", "60", "-o",
                                                             "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300", "start"], asPostgres: root)
            if st == 0 { break }
            if attempt == 5 {
                throw TestFailure("pg_ctl start failed: \(out) \((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "")")
            }
        }
        dataDir = dir + "/data"
        let url = "postgres://postgres@127.0.0.1:\(port)/postgres"
        adminURL = url
        // Stop the cluster when the test process ends.
        // Foundation's Process cannot run during exit, so the stop command goes through system(3).
        let stop = (root ? "/usr/sbin/runuser -u postgres -- " : "") + "\(Self.binary("pg_ctl")) -D \(dir)/data -m immediate stop >/dev/null 2>&1; rm -rf \(dir)"
        registerExitHandler { _ = system(stop) }
        return url
    }

    static func binary(_ name: String) -> String {
        let fm = FileManager.default
        if let versions = try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            for v in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
                let p = "/usr/lib/postgresql/\(v)/bin/\(name)"
                if fm.isExecutableFile(atPath: p) { return p }
            }
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if fm.isExecutableFile(atPath: p) { return p }
        }
        return name
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw TestFailure("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @discardableResult
    static func run(_ exe: String, _ args: [String], asPostgres: Bool) throws -> (Int32, String) {
        if asPostgres { return try Spawn.run("/usr/sbin/runuser", ["-u", "postgres", "--", exe] + args) }
        return try Spawn.run(exe, args)
    }
}

@_silgen_name("atexit")
private func c_atexit(_ f: @convention(c) () -> Void) -> Int32

private nonisolated(unsafe) var exitHandlers: [() -> Void] = []
private let exitLock = NSLock()
func registerExitHandler(_ f: @escaping () -> Void) {
    exitLock.lock(); defer { exitLock.unlock() }
    if exitHandlers.isEmpty { _ = c_atexit { exitLock.lock(); let hs = exitHandlers; exitLock.unlock(); for h in hs { h() } } }
    exitHandlers.append(f)
}
