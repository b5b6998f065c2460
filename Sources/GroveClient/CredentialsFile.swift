import Foundation
import GroveModel

/// `~/.config/grove/credentials.json` (mode 0600): the API URL, the API token and a cached access token.
public struct CredentialsFile: Sendable {
    public var apiURL: String
    public var apiToken: String
    public var accessToken: String?
    public var expiresAt: Date?

    public init(apiURL: String, apiToken: String) { self.apiURL = apiURL; self.apiToken = apiToken }

    public static var directory: String {
        if let d = ProcessInfo.processInfo.environment["GROVE_CONFIG_DIR"], !d.isEmpty { return d }
        if let x = ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"], !x.isEmpty { return x + "/grove" }
        // $HOME first: Foundation's home lookup reads the password database for root and ignores it.
        if let h = ProcessInfo.processInfo.environment["HOME"], h.hasPrefix("/") { return h + "/.config/grove" }
        return NSHomeDirectory() + "/.config/grove"
    }
    public static var path: String { directory + "/credentials.json" }

    public static func load() -> CredentialsFile? {
        guard let data = FileManager.default.contents(atPath: path), case .object(let o)? = try? JSON.parse(Array(data)),
              let url = o["api_url"]?.stringValue, let token = o["api_token"]?.stringValue else { return nil }
        var c = CredentialsFile(apiURL: url, apiToken: token)
        c.accessToken = o["access_token"]?.stringValue
        if let e = o["expires_at"]?.doubleValue { c.expiresAt = Date(timeIntervalSince1970: e) }
        return c
    }

    public func save() throws {
        try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var o = JSONObject([("api_url", .string(apiURL)), ("api_token", .string(apiToken))])
        if let accessToken { o["access_token"] = .string(accessToken) }
        if let expiresAt { o["expires_at"] = .double(expiresAt.timeIntervalSince1970) }
        _ = FileManager.default.createFile(atPath: Self.path, contents: nil, attributes: [.posixPermissions: 0o600])
        try Data(JSON.object(o).serialized(pretty: true).utf8).write(to: URL(fileURLWithPath: Self.path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: Self.path)
    }

    public static func remove() { try? FileManager.default.removeItem(atPath: path) }
}
