import Foundation

/// The hooks every hosted repository runs on push. They are tiny scripts that hand the push to the `grove`
/// binary (`grove internal:git-hook <name>`), which asks the server that accepted the push what to do:
/// `proc-receive` validates branch updates and moves branches only when the environment's activity succeeds;
/// `pre-receive` checks the other refs (tags) while their objects are still quarantined.
public struct GitHooks: Sendable {
    public let directory: String

    public init(dataDir: String) {
        directory = (dataDir as NSString).appendingPathComponent("git-hooks")
    }

    public static let names = ["pre-receive", "proc-receive"]

    /// Writes the hook scripts (idempotent).
    public func install() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in Self.names {
            let path = (directory as NSString).appendingPathComponent(name)
            let script = name == "pre-receive" ? Self.preReceiveScript
                : "#!/bin/sh\n# Written by grove serve: hands the push to the server that accepted it.\nexec \"$GROVE_HOOK_EXE\" internal:git-hook \(name)\n"
            if (try? String(contentsOfFile: path, encoding: .utf8)) != script {
                try script.write(toFile: path, atomically: true, encoding: .utf8)
            }
            chmod(path, 0o755)
        }
    }

    /// Branch updates are checked by proc-receive, before any branch moves; only pushes of other refs (tags)
    /// start `grove` here, which spares most pushes a process.
    static let preReceiveScript = """
        #!/bin/sh
        # Written by grove serve: branches are checked by proc-receive; other refs are checked here.
        input=$(cat)
        others=no
        while read -r old new ref; do
          case "$ref" in refs/heads/*) ;; *) others=yes ;; esac
        done <<EOF
        $input
        EOF
        [ "$others" = yes ] || exit 0
        printf '%s\\n' "$input" | exec "$GROVE_HOOK_EXE" internal:git-hook pre-receive

        """

    /// git configuration for receive-pack, as `GIT_CONFIG_*` pairs: our hooks, branch updates through
    /// proc-receive, and push options (`-o environment.status=active`) advertised.
    public var receiveConfig: [(String, String)] {
        [("core.hooksPath", directory), ("receive.procReceiveRefs", "refs/heads"), ("receive.advertisePushOptions", "true"),
         ("receive.denyDeleteCurrent", "false")]
    }

    /// The path of the running executable, which the hooks call back.
    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
