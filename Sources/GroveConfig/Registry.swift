/// What application runtimes and service types Platform.sh configurations may name, with their versions.
/// Grove accepts the same names so configurations move unchanged; whether a runtime or service can
/// actually run on a host is decided at build/deploy time, not here.
public enum Registry {
    public struct Runtime: Sendable {
        public let name: String
        public let versions: [String]
        public let deprecated: [String]
        /// PHP is served by PHP-FPM without a start command; every other runtime needs `web.commands.start`.
        public var needsStartCommand: Bool { name != "php" }
        public var defaultFlavor: String {
            switch name {
            case "php": return "composer"
            case "nodejs": return "default"
            default: return "none"
            }
        }
    }

    public struct ServiceType: Sendable {
        public let name: String
        public let versions: [String]
        public let deprecated: [String]
        public let defaultEndpoint: String?
        public let persistent: Bool
        public let minimumDisk: Int?
        public let scheme: String?
        public let port: Int?
    }

    public static let runtimes: [String: Runtime] = {
        let list = [
            Runtime(name: "php", versions: ["8.4", "8.3", "8.2", "8.1"], deprecated: ["8.0", "7.4", "7.3", "7.2", "7.1", "7.0", "5.6", "5.5", "5.4"]),
            Runtime(name: "python", versions: ["3.13", "3.12", "3.11", "3.10", "3.9", "3.8"], deprecated: ["3.7", "3.6", "3.5", "2.7"]),
            Runtime(name: "nodejs", versions: ["24", "22", "20", "18", "16"], deprecated: ["14", "12", "10", "8", "6"]),
            Runtime(name: "ruby", versions: ["3.4", "3.3", "3.2", "3.1", "3.0"], deprecated: ["2.7", "2.6", "2.5", "2.4", "2.3"]),
            Runtime(name: "golang", versions: ["1.24", "1.23", "1.22", "1.21", "1.20"], deprecated: ["1.19", "1.18", "1.17", "1.16", "1.15", "1.14"]),
            Runtime(name: "java", versions: ["21", "19", "18", "17", "11", "8"], deprecated: ["14", "13", "12"]),
            Runtime(name: "elixir", versions: ["1.18", "1.15", "1.14"], deprecated: ["1.13", "1.12", "1.11", "1.10", "1.9"]),
            Runtime(name: "dotnet", versions: ["8.0", "7.0", "6.0"], deprecated: ["5.0", "3.1", "2.2", "2.1", "2.0"]),
            Runtime(name: "rust", versions: ["1"], deprecated: []),
            Runtime(name: "lisp", versions: ["2.1", "2.0", "1.5"], deprecated: []),
            Runtime(name: "composable", versions: ["25.11", "25.05", "24.05"], deprecated: []),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    /// "supported versions: a, b" for a deprecation warning; a type with none left says so (and names its successor).
    static func supportedVersions(_ versions: [String], of name: String) -> String {
        guard versions.isEmpty else { return "supported versions: " + versions.joined(separator: ", ") }
        let successor = services[name + "-enterprise"].map { "; use \($0.name) (\($0.versions.joined(separator: ", ")))" } ?? ""
        return "no version of \(name) is offered any more" + successor
    }

    public static let services: [String: ServiceType] = {
        let list = [
            ServiceType(name: "postgresql", versions: ["17", "16", "15", "14", "13", "12"], deprecated: ["11", "10", "9.6", "9.5", "9.4", "9.3"],
                        defaultEndpoint: "postgresql", persistent: true, minimumDisk: nil, scheme: "pgsql", port: 5432),
            ServiceType(name: "mariadb", versions: ["11.8", "11.4", "11.2", "11.0", "10.11", "10.6", "10.5", "10.4"], deprecated: ["10.3", "10.2", "10.1", "10.0", "5.5"],
                        defaultEndpoint: "mysql", persistent: true, minimumDisk: 256, scheme: "mysql", port: 3306),
            ServiceType(name: "mysql", versions: ["11.0", "10.11", "10.6", "10.5", "10.4", "10.3"], deprecated: ["10.2", "10.1", "10.0", "5.5"],
                        defaultEndpoint: "mysql", persistent: true, minimumDisk: 256, scheme: "mysql", port: 3306),
            ServiceType(name: "oracle-mysql", versions: ["8.0", "5.7"], deprecated: [],
                        defaultEndpoint: "mysql", persistent: true, minimumDisk: 256, scheme: "mysql", port: 3306),
            ServiceType(name: "redis", versions: ["8.0", "7.4", "7.2", "7.0", "6.2"], deprecated: ["6.0", "5.0", "4.0", "3.2"],
                        defaultEndpoint: "redis", persistent: false, minimumDisk: nil, scheme: "redis", port: 6379),
            ServiceType(name: "redis-persistent", versions: ["8.0", "7.4", "7.2", "7.0", "6.2"], deprecated: ["6.0", "5.0", "4.0", "3.2"],
                        defaultEndpoint: "redis", persistent: true, minimumDisk: nil, scheme: "redis", port: 6379),
            ServiceType(name: "valkey", versions: ["8.1", "8.0", "7.2"], deprecated: [],
                        defaultEndpoint: "valkey", persistent: false, minimumDisk: nil, scheme: "redis", port: 6379),
            ServiceType(name: "memcached", versions: ["1.6", "1.5", "1.4"], deprecated: [],
                        defaultEndpoint: "memcached", persistent: false, minimumDisk: nil, scheme: "memcached", port: 11211),
            ServiceType(name: "rabbitmq", versions: ["4.1", "4.0", "3.13", "3.12"], deprecated: ["3.11", "3.10", "3.9", "3.8", "3.7"],
                        defaultEndpoint: "rabbitmq", persistent: true, minimumDisk: 512, scheme: "amqp", port: 5672),
            ServiceType(name: "elasticsearch", versions: ["8.5", "7.17"], deprecated: ["7.10", "7.9", "7.7", "7.5", "7.2", "6.8", "6.5", "5.4", "5.2"],
                        defaultEndpoint: "elasticsearch", persistent: true, minimumDisk: 256, scheme: "http", port: 9200),
            ServiceType(name: "opensearch", versions: ["3", "2", "1"], deprecated: [],
                        defaultEndpoint: "opensearch", persistent: true, minimumDisk: 256, scheme: "http", port: 9200),
            ServiceType(name: "solr", versions: ["9.6", "9.4", "9.2", "9.1", "8.11"], deprecated: ["8.6", "8.4", "8.0", "7.7", "7.6", "6.6", "6.3", "4.10"],
                        defaultEndpoint: "solr", persistent: true, minimumDisk: 256, scheme: "solr", port: 8080),
            ServiceType(name: "mongodb-enterprise", versions: ["7.0", "6.0", "5.0", "4.4"], deprecated: [],
                        defaultEndpoint: "mongodb", persistent: true, minimumDisk: 512, scheme: "mongodb", port: 27017),
            ServiceType(name: "mongodb", versions: [], deprecated: ["4.0.3", "3.6", "3.4", "3.2", "3.0"],
                        defaultEndpoint: "mongodb", persistent: true, minimumDisk: 512, scheme: "mongodb", port: 27017),
            ServiceType(name: "kafka", versions: ["3.7", "3.6", "3.4", "3.2"], deprecated: [],
                        defaultEndpoint: "kafka", persistent: true, minimumDisk: 512, scheme: "kafka", port: 9092),
            ServiceType(name: "varnish", versions: ["7.6", "7.3", "7.2", "6.0"], deprecated: ["6.3", "5.6", "5.2", "5.1"],
                        defaultEndpoint: "http+stats", persistent: false, minimumDisk: nil, scheme: "http", port: 80),
            ServiceType(name: "network-storage", versions: ["2.0"], deprecated: ["1.0"],
                        defaultEndpoint: nil, persistent: true, minimumDisk: nil, scheme: nil, port: nil),
            ServiceType(name: "chrome-headless", versions: ["120", "113", "95", "91", "86", "84", "83", "81", "80", "73"], deprecated: [],
                        defaultEndpoint: "http", persistent: false, minimumDisk: nil, scheme: "http", port: 9222),
            ServiceType(name: "influxdb", versions: ["2.7", "2.3"], deprecated: ["2.2", "1.8", "1.7", "1.3", "1.2"],
                        defaultEndpoint: "influxdb", persistent: true, minimumDisk: nil, scheme: "http", port: 8086),
            ServiceType(name: "vault-kms", versions: ["1.12"], deprecated: ["1.8", "1.6"],
                        defaultEndpoint: "manage_keys", persistent: true, minimumDisk: 512, scheme: "http", port: 8200),
            ServiceType(name: "gotenberg", versions: ["8"], deprecated: [],
                        defaultEndpoint: "http", persistent: false, minimumDisk: nil, scheme: "http", port: 3000),
            ServiceType(name: "clickhouse", versions: ["25.3", "24.3", "23.8"], deprecated: [],
                        defaultEndpoint: "clickhouse", persistent: true, minimumDisk: nil, scheme: "clickhouse", port: 9000),
            ServiceType(name: "mercure", versions: ["0.16"], deprecated: [],
                        defaultEndpoint: "mercure", persistent: true, minimumDisk: nil, scheme: "http", port: 3000),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    public static let sizes: Set<String> = ["AUTO", "S", "M", "L", "XL", "2XL", "4XL"]
    public static let containerProfiles: Set<String> = ["HIGH_CPU", "BALANCED", "HIGH_MEMORY", "HIGHER_MEMORY"]
    public static let roles: Set<String> = ["admin", "contributor", "viewer"]
    public static let dependencyManagers: Set<String> = ["php", "python", "python2", "python3", "ruby", "nodejs", "java"]
    public static let flavors: Set<String> = ["composer", "default", "none", "drupal"]
}

/// `name:version`, as in `type: "python:3.12"`.
public struct TypeAndVersion: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var version: String
    public var description: String { "\(name):\(version)" }

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        name = String(parts[0])
        version = String(parts[1])
    }

    /// Major, or major.minor, compared numerically (`10.11` > `10.6`).
    public static func compareVersions(_ a: String, _ b: String) -> Int {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }
}
