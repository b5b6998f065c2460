import GroveModel

/// What one build may use. A build hook is tenant code: without bounds, one push could fill the disk, the memory
/// (a sandbox's /tmp is memory) or the process table of the host. CPU and memory follow the project's
/// `build_resources` setting; processes and output have Grove's defaults (docs/deploy.md).
public struct BuildLimits: Sendable, Equatable {
    public var cpu: Double
    public var memoryMB: Int
    public var processes: Int
    /// Bytes the application directory and the build cache may hold together at the end of any moment of the build.
    public var outputBytes: Int64

    public static let defaultCPU = 1.0
    public static let defaultMemoryMB = 2048
    public static let defaultProcesses = 512
    public static let defaultOutputBytes: Int64 = 4 << 30

    public init(cpu: Double = defaultCPU, memoryMB: Int = defaultMemoryMB, processes: Int = defaultProcesses, outputBytes: Int64 = defaultOutputBytes) {
        self.cpu = cpu; self.memoryMB = memoryMB; self.processes = processes; self.outputBytes = outputBytes
    }

    /// The project's `build_resources` ({cpu, memory in MB}) over the operator's `defaults`; missing or unusable
    /// values keep the defaults.
    public static func from(settings: JSONObject, defaults: BuildLimits = BuildLimits()) -> BuildLimits {
        var l = defaults
        guard let r = settings["build_resources"]?.objectValue else { return l }
        if let cpu = r["cpu"]?.doubleValue, cpu > 0 { l.cpu = cpu }
        if let mem = r["memory"]?.intValue, mem >= 64 { l.memoryMB = Int(mem) }
        return l
    }

    public var description: String {
        "\(cpu) CPU, \(memoryMB) MB of memory (/tmp included), \(processes) processes, \(outputBytes >> 20) MB of output"
    }
}
