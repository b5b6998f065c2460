import GroveDriver
import GroveRuntime

extension BuildLimits {
    /// The cgroup limits a build runs under.
    var resources: ResourceLimits { ResourceLimits(cpu: cpu, memoryMB: memoryMB, pids: processes) }
}
