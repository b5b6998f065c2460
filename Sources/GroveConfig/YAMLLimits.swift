import CYaml

/// Bounds on what one configuration document may cost, checked on libyaml's event stream before the document is
/// composed. Composing and walking a tree is proportional to its size with aliases expanded, so a "billion laughs"
/// file (a few hundred bytes whose aliases expand to 10⁹ nodes) must be refused from the events alone.
public enum YAMLLimits {
    /// Bytes of one file (configuration files are a few KB; templates stay far below this).
    public static let maxFileBytes = 512 * 1024
    /// Bytes of every file a tree's configuration reads, includes counted.
    public static let maxTotalBytes = 4 * 1024 * 1024
    /// Nodes of one file with every alias expanded.
    public static let maxExpandedNodes = 100_000
    /// Nodes of the whole configuration after includes and merge keys, what validation walks.
    public static let maxConvertedNodes = 250_000
    /// Nesting of mappings and sequences, aliases expanded.
    public static let maxDepth = 64

    /// The first limit `text` breaks, with the 1-based line where it became clear; nil when it stays within them
    /// (syntax errors are left to the composer, which describes them better).
    static func violation(in text: String) -> (line: Int?, message: String)? {
        if text.utf8.count > maxFileBytes {
            return (nil, "is \(text.utf8.count) bytes; configuration files are limited to \(maxFileBytes) bytes")
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return (nil, "cannot be parsed: out of memory") }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int?, message: String)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return scan(&parser)
        }
    }

    /// One open mapping or sequence: its anchor, the expanded count when it opened, the deepest level under it.
    private struct Frame {
        var anchor: String?
        var startCount: Int
        var deepest: Int
    }

    /// An anchored node's expanded size and the levels it adds below where it is used.
    private struct Anchored {
        var size: Int
        var depth: Int
    }

    private static func scan(_ parser: inout yaml_parser_t) -> (line: Int?, message: String)? {
        var anchors: [String: Anchored] = [:]
        var stack: [Frame] = []
        var count = 0
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            func deepen(_ levels: Int) -> Bool {
                let depth = stack.count + levels
                if depth > maxDepth { return false }
                if !stack.isEmpty { stack[stack.count - 1].deepest = max(stack[stack.count - 1].deepest, depth) }
                return true
            }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return nil
            case YAML_SCALAR_EVENT:
                count += 1
                if let a = event.data.scalar.anchor { anchors[String(cString: a)] = Anchored(size: 1, depth: 0) }
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let a = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                guard deepen(1) else { return (line, "nests deeper than \(maxDepth) levels") }
                stack.append(Frame(anchor: a.map { String(cString: $0) }, startCount: count, deepest: stack.count + 1))
                count += 1
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { return nil }
                if let a = frame.anchor {
                    anchors[a] = Anchored(size: count - frame.startCount, depth: frame.deepest - (stack.count + 1) + 1)
                }
                if !stack.isEmpty { stack[stack.count - 1].deepest = max(stack[stack.count - 1].deepest, frame.deepest) }
            case YAML_ALIAS_EVENT:
                // An alias to an anchor still open (a cycle) or unknown is the composer's error to report.
                guard let a = event.data.alias.anchor, let target = anchors[String(cString: a)] else { return nil }
                guard deepen(target.depth) else { return (line, "nests deeper than \(maxDepth) levels once its aliases are expanded") }
                count += target.size
            default:
                break
            }
            if count > maxExpandedNodes {
                return (line, "expands to more than \(maxExpandedNodes) values once its aliases are expanded (the limit for a configuration file)")
            }
        }
    }
}
