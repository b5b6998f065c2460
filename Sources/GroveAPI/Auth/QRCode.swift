import Foundation
import GroveRuntime

/// The QR code of a TOTP provisioning URI, drawn by Debian's `qrencode` as a PNG data URI that a page can show
/// as is. The URI holds the secret, so it travels through a private file (never argv, which `ps` shows).
enum QRCode {
    static func pngDataURI(_ text: String, workDir: String) async -> String? {
        let dir = workDir + "/tmp"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let stem = dir + "/qr-" + UUID().uuidString
        defer {
            try? FileManager.default.removeItem(atPath: stem + ".in")
            try? FileManager.default.removeItem(atPath: stem + ".png")
        }
        guard FileManager.default.createFile(atPath: stem + ".in", contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else { return nil }
        let argv = ["/bin/sh", "-c", "exec qrencode -t PNG -s 6 -m 2 -o \"$2\" < \"$1\"", "sh", stem + ".in", stem + ".png"]
        guard let status = try? await Exec.run(argv, env: ["PATH": "/usr/bin:/bin"], cwd: nil, logPath: "/dev/null"), status == 0,
              let png = FileManager.default.contents(atPath: stem + ".png"), !png.isEmpty else { return nil }
        return "data:image/png;base64," + png.base64EncodedString()
    }
}
