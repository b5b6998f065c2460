import ArgumentParser
import Foundation
import GroveClient
import GroveModel
import Synchronization

/// `grove internal:git-hook <name>`: what the hosted repositories' hooks run. It relays the push to the
/// server that accepted it (address and session token arrive in the environment) and prints the answer,
/// which git shows the pusher as `remote:` lines.
struct GitHookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "internal:git-hook", abstract: "Run a git hook (called by git, not by people).",
                                                    shouldDisplay: false)

    @Argument(help: "pre-receive or proc-receive")
    var hook: String

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let base = env["GROVE_HOOK_URL"], let token = env["GROVE_PUSH_TOKEN"] else {
            FileHandle.standardError.write(Data("grove: this push did not come through grove serve; refusing it.\n".utf8))
            throw ExitCode(1)
        }
        let url = base + "/internal/git-hooks/" + hook
        let headers = ["X-Grove-Push-Token": token]
        switch hook {
        case "pre-receive": try await preReceive(url: url, headers: headers, env: env)
        case "proc-receive": try await procReceive(url: url, headers: headers)
        default: throw ValidationError("unknown hook \(hook)")
        }
    }

    static func say(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func pushOptions(_ env: [String: String]) -> [String] {
        let n = Int(env["GIT_PUSH_OPTION_COUNT"] ?? "") ?? 0
        return (0..<n).compactMap { env["GIT_PUSH_OPTION_\($0)"] }
    }

    static func updatesJSON(_ lines: [String]) -> JSON {
        .array(lines.compactMap { line in
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 3 else { return nil }
            return ["old": .string(f[0]), "new": .string(f[1]), "ref": .string(f[2])]
        })
    }

    func preReceive(url: String, headers: [String: String], env: [String: String]) async throws {
        var lines: [String] = []
        while let l = readLine() { if !l.isEmpty { lines.append(l) } }
        var objectEnv = JSONObject()
        for k in ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH"] {
            if let v = env[k] { objectEnv[k] = .string(v) }
        }
        let body: JSON = ["updates": Self.updatesJSON(lines), "options": JSON(Self.pushOptions(env)), "object_environment": .object(objectEnv)]
        let box = ResultBox()
        do {
            try await NDJSONRequest.post(url, headers: headers, body: body.bytes) { line in
                for m in line["messages"]?.arrayValue ?? [] { if let s = m.stringValue { Self.say(s) } }
                if let ok = line["ok"]?.boolValue { box.set(ok) }
            }
        } catch {
            Self.say("E: Grove could not check this push: \(error)")
            throw ExitCode(1)
        }
        if box.get() != true { throw ExitCode(1) }
    }

    func procReceive(url: String, headers: [String: String]) async throws {
        let io = PktLine(input: FileHandle.standardInput, output: FileHandle.standardOutput)
        // Version negotiation: git sends its version and capabilities; we answer with ours.
        var wantsOptions = false
        while let pkt = io.read() {
            if pkt.contains("push-options") { wantsOptions = true }
        }
        io.write("version=1\0push-options")
        io.flush()
        var commands: [String] = []
        while let pkt = io.read() { commands.append(pkt.trimmingCharacters(in: .newlines)) }
        var options: [String] = []
        if wantsOptions {
            while let pkt = io.read() { options.append(pkt.trimmingCharacters(in: .newlines)) }
        }
        let body: JSON = ["updates": Self.updatesJSON(commands), "options": JSON(options)]
        let results = ResultsBox()
        do {
            try await NDJSONRequest.post(url, headers: headers, body: body.bytes) { line in
                if let m = line["message"]?.stringValue { Self.say(m) }
                if let r = line["results"]?.arrayValue { results.set(r) }
            }
        } catch {
            Self.say("E: Grove could not apply this push: \(error)")
        }
        let answered = results.get()
        for c in commands {
            let ref = c.split(separator: " ").last.map(String.init) ?? ""
            if let r = answered.first(where: { $0["ref"]?.stringValue == ref }) {
                if r["ok"]?.boolValue == true { io.write("ok \(ref)") } else { io.write("ng \(ref) \(r["reason"]?.stringValue ?? "refused")") }
            } else {
                io.write("ng \(ref) the platform did not answer for this ref")
            }
        }
        io.flush()
    }
}

final class ResultBox: Sendable {
    private let value = Mutex<Bool?>(nil)
    func set(_ v: Bool) { value.withLock { $0 = v } }
    func get() -> Bool? { value.withLock { $0 } }
}

final class ResultsBox: Sendable {
    private let value = Mutex<[JSON]>([])
    func set(_ v: [JSON]) { value.withLock { $0 = v } }
    func get() -> [JSON] { value.withLock { $0 } }
}

/// git's pkt-line framing: 4 hex digits of length (including themselves), then the payload; `0000` flushes.
struct PktLine {
    let input: FileHandle
    let output: FileHandle

    /// The next packet's text, or nil at a flush packet or the end of input.
    func read() -> String? {
        guard let head = readExactly(4), head.count == 4, let n = Int(String(decoding: head, as: UTF8.self), radix: 16) else { return nil }
        if n <= 4 { return nil }
        guard let payload = readExactly(n - 4) else { return nil }
        return String(decoding: payload, as: UTF8.self)
    }

    func readExactly(_ n: Int) -> [UInt8]? {
        var out: [UInt8] = []
        while out.count < n {
            let d = input.readData(ofLength: n - out.count)
            if d.isEmpty { return out.isEmpty ? nil : out }
            out += d
        }
        return out
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        output.write(Data(String(format: "%04x", bytes.count + 4).utf8 + bytes))
    }

    func flush() { output.write(Data("0000".utf8)) }
}
