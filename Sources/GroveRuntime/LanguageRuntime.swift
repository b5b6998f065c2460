import Foundation
import GroveConfig

/// The host's interpreter or toolchain for an application's `type`, found among Debian's packages.
public struct LanguageRuntime: Sendable {
    public let name: String
    public let requested: String
    /// The version found on this host (may differ from the requested one; the build log says so).
    public let found: String
    /// Directories to put first on PATH.
    public let binDirs: [String]
    /// A note for the build log when the host's version differs from the requested one.
    public let note: String?

    /// Finds the runtime for `type`, or throws naming the Debian package to install.
    public static func resolve(_ type: TypeAndVersion) throws -> LanguageRuntime {
        func exists(_ p: String) -> Bool { FileManager.default.isExecutableFile(atPath: p) }
        func version(_ exe: String, _ args: [String]) -> String { Exec.capture(exe, args) ?? "?" }
        func majorMinor(_ text: String) -> String {
            guard let r = text.firstMatch(of: /(\d+)\.(\d+)/) else { return text }
            return "\(r.1).\(r.2)"
        }
        switch type.name {
        case "python":
            if exists("/usr/bin/python\(type.version)") {
                return LanguageRuntime(name: "python", requested: type.version, found: type.version, binDirs: [], note: nil)
            }
            guard exists("/usr/bin/python3") else { throw RuntimeError("python is not installed on this host: apt-get install python3 python3-pip") }
            let v = majorMinor(version("/usr/bin/python3", ["--version"]))
            return LanguageRuntime(name: "python", requested: type.version, found: v, binDirs: [],
                                   note: v == type.version ? nil : "python:\(type.version) requested; this host runs Python \(v) (install python\(type.version) for an exact match)")
        case "php":
            guard exists("/usr/bin/php") else { throw RuntimeError("php is not installed on this host: apt-get install php-cli php-fpm") }
            let v = majorMinor(version("/usr/bin/php", ["-r", "echo PHP_VERSION;"]))
            return LanguageRuntime(name: "php", requested: type.version, found: v, binDirs: [],
                                   note: v == type.version ? nil : "php:\(type.version) requested; this host runs PHP \(v)")
        case "nodejs":
            guard exists("/usr/bin/node") else { throw RuntimeError("nodejs is not installed on this host: apt-get install nodejs npm") }
            let v = version("/usr/bin/node", ["--version"]).dropFirst().split(separator: ".").first.map(String.init) ?? "?"
            return LanguageRuntime(name: "nodejs", requested: type.version, found: v, binDirs: [],
                                   note: v == type.version ? nil : "nodejs:\(type.version) requested; this host runs Node.js \(v)")
        case "ruby":
            guard exists("/usr/bin/ruby") else { throw RuntimeError("ruby is not installed on this host: apt-get install ruby") }
            return LanguageRuntime(name: "ruby", requested: type.version, found: majorMinor(version("/usr/bin/ruby", ["--version"])), binDirs: [], note: nil)
        case "golang":
            let go = ["/usr/bin/go", "/usr/lib/go/bin/go"].first(where: exists)
            guard let go else { throw RuntimeError("go is not installed on this host: apt-get install golang-go") }
            return LanguageRuntime(name: "golang", requested: type.version, found: majorMinor(version(go, ["version"])),
                                   binDirs: [(go as NSString).deletingLastPathComponent], note: nil)
        case "java":
            guard exists("/usr/bin/java") else { throw RuntimeError("java is not installed on this host: apt-get install default-jdk") }
            return LanguageRuntime(name: "java", requested: type.version, found: "?", binDirs: [], note: nil)
        case "rust":
            guard exists("/usr/bin/cargo"), exists("/usr/bin/rustc") else { throw RuntimeError("rust is not installed on this host: apt-get install rustc cargo") }
            let v = majorMinor(version("/usr/bin/rustc", ["--version"]))
            return LanguageRuntime(name: "rust", requested: type.version, found: v, binDirs: [],
                                   note: v.hasPrefix(type.version + ".") ? nil : "rust:\(type.version) requested; this host runs Rust \(v)")
        case "elixir":
            guard exists("/usr/bin/elixir"), exists("/usr/bin/mix") else { throw RuntimeError("elixir is not installed on this host: apt-get install elixir erlang-dev") }
            // The first lines name Erlang/OTP and erts; the version is on the `Elixir x.y.z` line.
            let text = version("/usr/bin/elixir", ["--version"])
            let v = text.firstMatch(of: /Elixir (\d+)\.(\d+)/).map { "\($0.1).\($0.2)" } ?? "?"
            return LanguageRuntime(name: "elixir", requested: type.version, found: v, binDirs: [],
                                   note: v == type.version ? nil : "elixir:\(type.version) requested; this host runs Elixir \(v)")
        case "lisp":
            guard exists("/usr/bin/sbcl") else { throw RuntimeError("lisp is not installed on this host: apt-get install sbcl") }
            let v = majorMinor(version("/usr/bin/sbcl", ["--version"]))
            return LanguageRuntime(name: "lisp", requested: type.version, found: v, binDirs: [],
                                   note: v == type.version ? nil : "lisp:\(type.version) requested; this host runs SBCL \(v)")
        default:
            throw RuntimeError("\(type.name) applications cannot run on this Grove host yet (supported: python, php, nodejs, ruby, golang, java, rust, elixir, lisp)")
        }
    }

    /// Variables that make package managers install into the application (pip's user site under
    /// `.global`, as Platform.sh does), for builds and at runtime. `app` is the app dir as the process sees it.
    public func environment(app: String) -> [String: String] {
        let global = app + "/.global"
        var env: [String: String] = [
            "PATH": (binDirs + [global + "/bin", app + "/node_modules/.bin", "/usr/local/bin", "/usr/bin", "/bin"]).joined(separator: ":"),
        ]
        switch name {
        case "python":
            // `.global` is a virtualenv (made by the build) whose site-packages is also this user site.
            env["PYTHONUSERBASE"] = global
            env["PIP_BREAK_SYSTEM_PACKAGES"] = "1"
            env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
            env["PIP_NO_WARN_SCRIPT_LOCATION"] = "1"
            env["PIP_ROOT_USER_ACTION"] = "ignore"
        case "nodejs":
            env["NPM_CONFIG_PREFIX"] = global
        case "ruby":
            env["GEM_HOME"] = global
            // Bundler installs there too, and never reaches for a gem server it was not told about.
            env["BUNDLE_PATH"] = global
        case "golang":
            // The host's toolchain only: no download of another Go, and `vendor/` is used when present.
            env["GOTOOLCHAIN"] = "local"
            env["GOFLAGS"] = "-modcacherw"
        case "elixir":
            env["MIX_HOME"] = global + "/mix"
            env["HEX_HOME"] = global + "/hex"
            // Releases write their runtime files under tmp, which the read-only application directory cannot hold.
            env["RELEASE_TMP"] = "/tmp"
        default: break
        }
        return env
    }
}
