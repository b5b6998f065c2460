import Foundation
import Yams

/// Reads configuration YAML into `ConfigNode`s: locations kept, merge keys (`<<`) applied, duplicate keys
/// refused, and Platform.sh's `!include` / `!archive` tags resolved against the repository tree.
/// Files are fetched first (so includes can come from git asynchronously), then converted synchronously.
struct YAMLReader {
    let files: any ConfigFiles
    let sink: IssueSink
    private var texts: [String: String] = [:]
    private var missing: Set<String> = []
    private var directories: Set<String> = []
    private var parsed: [String: Node] = [:]
    /// Bytes read so far across files and includes, against `YAMLLimits.maxTotalBytes`.
    private var bytesRead = 0
    private let budget = ConversionBudget()

    static let maxIncludeDepth = 8

    init(files: any ConfigFiles, paths: [String], sink: IssueSink) {
        self.files = files
        self.sink = sink
        for p in paths {
            var d = RepoPath.directory(of: p)
            while !d.isEmpty && directories.insert(d).inserted { d = RepoPath.directory(of: d) }
        }
    }

    /// Reads and converts one file; nil (with issues recorded) when it is not valid YAML.
    /// `includeBase` is the directory `!include` and `!archive` paths are relative to.
    mutating func load(_ path: String, includeBase: String) async -> ConfigNode? {
        await fetch(path, includeBase: includeBase, depth: 0)
        guard let root = parsed[path] else { return nil }
        var chain: [String] = [path]
        return convert(root, file: path, base: includeBase, chain: &chain)
    }

    // MARK: fetching

    private mutating func fetch(_ path: String, includeBase: String, depth: Int) async {
        guard parsed[path] == nil, !missing.contains(path), depth <= Self.maxIncludeDepth else { return }
        let text: String
        do {
            guard let bytes = try await files.read(path) else { missing.insert(path); return }
            guard account(bytes.count, path: path) else { missing.insert(path); return }
            guard let t = String(validating: bytes, as: UTF8.self) else {
                sink.error(file: path, line: nil, "is not valid UTF-8 text")
                missing.insert(path)
                return
            }
            text = t
        } catch {
            sink.error(file: path, line: nil, "cannot be read: \(error)")
            missing.insert(path)
            return
        }
        texts[path] = text
        if let v = YAMLLimits.violation(in: text) {
            sink.error(file: path, line: v.line, v.message)
            missing.insert(path)
            return
        }
        let node: Node
        do {
            guard let n = try Yams.compose(yaml: text) else {
                parsed[path] = Node.mapping(Node.Mapping([]))
                return
            }
            node = n
        } catch let e as YamlError {
            let (line, problem) = Self.describe(e)
            sink.error(file: path, line: line, "invalid YAML: \(problem)")
            missing.insert(path)
            return
        } catch {
            sink.error(file: path, line: nil, "invalid YAML: \(error)")
            missing.insert(path)
            return
        }
        parsed[path] = node
        for (target, yaml) in Self.includes(in: node, base: includeBase) {
            if yaml {
                await fetch(target, includeBase: RepoPath.directory(of: target), depth: depth + 1)
            } else if texts[target] == nil, !missing.contains(target) {
                if let b = try? await files.read(target), account(b.count, path: target) {
                    texts[target] = String(decoding: b, as: UTF8.self)
                    rawBytes[target] = b
                } else {
                    missing.insert(target)
                }
            }
        }
    }

    private var rawBytes: [String: [UInt8]] = [:]

    /// Counts a file's bytes against the total; false (and an error, once) when the total is exceeded.
    private mutating func account(_ count: Int, path: String) -> Bool {
        bytesRead += count
        guard bytesRead > YAMLLimits.maxTotalBytes else { return true }
        if bytesRead - count <= YAMLLimits.maxTotalBytes {
            sink.error(file: path, line: nil, "the configuration files read reach \(bytesRead) bytes; together they are limited to \(YAMLLimits.maxTotalBytes) bytes")
        }
        return false
    }

    /// Include targets named in a document: (path, whether it is parsed as YAML).
    private static func includes(in node: Node, base: String) -> [(String, Bool)] {
        var out: [(String, Bool)] = []
        func walk(_ n: Node) {
            if n.tag.rawValue == "!include", let spec = includeSpec(n), let p = RepoPath.resolve(spec.path, in: base) {
                out.append((p, spec.type == "yaml"))
                return
            }
            switch n {
            case .mapping(let m): for (k, v) in m { walk(k); walk(v) }
            case .sequence(let s): for v in s { walk(v) }
            default: break
            }
        }
        walk(node)
        return out
    }

    private static func includeSpec(_ n: Node) -> (type: String, path: String)? {
        switch n {
        case .scalar(let s): return ("yaml", s.string)
        case .mapping(let m):
            guard let path = m["path"]?.string else { return nil }
            return (m["type"]?.string ?? "yaml", path)
        default: return nil
        }
    }

    static func describe(_ e: YamlError) -> (Int?, String) {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let ctx = context.map { " \($0.text)" } ?? ""
            return (mark.line, problem + ctx)
        case .duplicatedKeysInMapping(let dups, let context):
            return (context.mark.line, "duplicate key \(dups.joined(separator: ", ")) in the mapping")
        default:
            return (nil, "\(e)")
        }
    }

    // MARK: conversion

    private func convert(_ node: Node, file: String, base: String, chain: inout [String]) -> ConfigNode {
        let line = node.mark?.line ?? 0
        // Includes and merge keys multiply what files hold; past the budget everything converts to null at once.
        guard budget.spend() else {
            if budget.report() {
                sink.error(file: file, line: line, "the configuration expands to more than \(YAMLLimits.maxConvertedNodes) values with its includes and merge keys")
            }
            return ConfigNode(.null, file: file, line: line)
        }
        let tag = node.tag.rawValue
        if tag == "!include" { return include(node, file: file, line: line, base: base, chain: &chain) }
        if tag == "!archive" {
            guard case .scalar(let s) = node, let dir = RepoPath.resolve(s.string, in: base) else {
                sink.error(file: file, line: line, "!archive takes a directory path inside the repository")
                return ConfigNode(.null, file: file, line: line)
            }
            if !directories.contains(dir) {
                sink.error(file: file, line: line, "!archive \(s.string): no directory \(dir.isEmpty ? "/" : dir) in the repository")
            }
            return ConfigNode(.archive(dir), file: file, line: line)
        }
        switch node {
        case .scalar(let s):
            return ConfigNode(Self.scalarValue(s.string, tag: tag), file: file, line: line)
        case .sequence(let seq):
            return ConfigNode(.list(seq.map { convert($0, file: file, base: base, chain: &chain) }), file: file, line: line)
        case .mapping(let m):
            var own: [(key: String, node: ConfigNode)] = []
            var merged: [(key: String, node: ConfigNode)] = []
            // Sets beside the ordered pairs keep duplicate checks linear in the number of keys.
            var ownKeys = Set<String>()
            var mergedKeys = Set<String>()
            for (k, v) in m {
                if k.tag.rawValue == Tag.Name.merge.rawValue {
                    let sources = v.sequence.map { Array($0) } ?? [v]
                    for src in sources {
                        let c = convert(src, file: file, base: base, chain: &chain)
                        guard let p = c.pairs else {
                            sink.error(file: file, line: c.line, key: "<<", "a merge key takes a mapping or a list of mappings")
                            continue
                        }
                        for pair in p where mergedKeys.insert(pair.key).inserted { merged.append(pair) }
                    }
                    continue
                }
                let key = k.string ?? "\(k.any)"
                guard ownKeys.insert(key).inserted else {
                    sink.error(file: file, line: k.mark?.line, key: key, "duplicate key")
                    continue
                }
                own.append((key, convert(v, file: file, base: base, chain: &chain)))
            }
            for pair in merged where !ownKeys.contains(pair.key) { own.append(pair) }
            return ConfigNode(.map(own), file: file, line: line)
        case .alias:
            return ConfigNode(.null, file: file, line: line)
        }
    }

    private func include(_ node: Node, file: String, line: Int, base: String, chain: inout [String]) -> ConfigNode {
        guard let spec = Self.includeSpec(node) else {
            sink.error(file: file, line: line, "!include takes a path or {type: yaml|string|binary, path: ...}")
            return ConfigNode(.null, file: file, line: line)
        }
        guard ["yaml", "string", "binary"].contains(spec.type) else {
            sink.error(file: file, line: line, key: "type", "!include type \(spec.type) is not supported; use yaml, string or binary")
            return ConfigNode(.null, file: file, line: line)
        }
        guard let target = RepoPath.resolve(spec.path, in: base) else {
            sink.error(file: file, line: line, "!include \(spec.path) points outside the repository")
            return ConfigNode(.null, file: file, line: line)
        }
        switch spec.type {
        case "yaml":
            if chain.contains(target) {
                sink.error(file: file, line: line, "!include \(spec.path) includes itself (\((chain + [target]).joined(separator: " -> ")))")
                return ConfigNode(.null, file: file, line: line)
            }
            guard let root = parsed[target] else {
                if missing.contains(target) && texts[target] == nil {
                    sink.error(file: file, line: line, "!include \(spec.path): no file \(target) in the repository")
                } else if chain.count > Self.maxIncludeDepth {
                    sink.error(file: file, line: line, "!include nests deeper than \(Self.maxIncludeDepth) files")
                }
                return ConfigNode(.null, file: file, line: line)
            }
            chain.append(target)
            defer { chain.removeLast() }
            return convert(root, file: target, base: RepoPath.directory(of: target), chain: &chain)
        default:
            guard let text = texts[target] else {
                sink.error(file: file, line: line, "!include \(spec.path): no file \(target) in the repository")
                return ConfigNode(.null, file: file, line: line)
            }
            if spec.type == "binary" {
                let bytes = rawBytes[target] ?? Array(text.utf8)
                return ConfigNode(.string(Data(bytes).base64EncodedString()), file: file, line: line)
            }
            return ConfigNode(.string(text), file: file, line: line)
        }
    }

    static func scalarValue(_ text: String, tag: String) -> ConfigNode.Value {
        switch tag {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue:
            return .bool(["true", "yes", "on", "y"].contains(text.lowercased()))
        case Tag.Name.int.rawValue:
            if let i = Int(text.replacingOccurrences(of: "_", with: "")) { return .int(i) }
            if text.hasPrefix("0x"), let i = Int(text.dropFirst(2), radix: 16) { return .int(i) }
            if text.hasPrefix("0o"), let i = Int(text.dropFirst(2), radix: 8) { return .int(i) }
            return .string(text)
        case Tag.Name.float.rawValue:
            return Double(text.replacingOccurrences(of: "_", with: "")).map { .double($0) } ?? .string(text)
        default: return .string(text)
        }
    }
}

/// How many more nodes conversion may produce for one configuration; shared by every file of it.
final class ConversionBudget {
    private var remaining = YAMLLimits.maxConvertedNodes
    private var reported = false

    func spend() -> Bool {
        remaining -= 1
        return remaining >= 0
    }

    /// True the first time only, so the limit is reported once.
    func report() -> Bool {
        defer { reported = true }
        return !reported
    }
}
