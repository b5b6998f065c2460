import Foundation
import Logging

/// A network namespace per environment. An environment's applications, workers, crons, hooks and services share
/// it: each sees its own loopback (services listen on 127.0.0.1 there, so relationships keep `127.0.0.1`), and nothing
/// of another environment's loopback or the host's (Grove's API included).
///
/// The host reaches in through a veth pair on a /30 of 169.254.0.0/16: inside, every TCP connection arriving on the
/// pair is DNATed to the namespace's loopback (`route_localnet`) and SNATed to come from it (servers that trust only
/// local clients, such as PostgreSQL's pg_hba, see them as before), so the router, health checks and operators use
/// `<address>:<port>` for what listens on `127.0.0.1:<port>` inside. Outward, the namespace routes through the host
/// (masqueraded) to the world, but the host's own addresses and other environments' pairs are dropped (nftables).
public actor EnvironmentNetworks {
    public struct Network: Sendable, Equatable {
        public let name: String
        /// The host's end of the pair, and the namespace's end (where the host reaches the environment's ports).
        public let hostAddress: String
        public let address: String

        /// The argv prefix that runs a command in this namespace.
        public var enter: [String] { ["/usr/bin/nsenter", "--net=/run/netns/\(name)", "--"] }
    }

    public enum Mode: String, Sendable { case isolated, host }

    public nonisolated let mode: Mode
    /// Private IPv4 networks environments may reach besides the host's DNS resolvers (`--egress-allow`).
    public nonisolated let egressAllowed: [String]
    let logger: Logger
    /// This process's tag in namespace and interface names, so several servers on one host never touch each other's.
    let tag: String
    private var networks: [String: Network] = [:]
    private var counter = 0
    private var hostRulesReady = false

    init(mode: Mode, egressAllowed: [String] = [], logger: Logger) {
        self.mode = mode
        self.egressAllowed = egressAllowed
        self.logger = logger
        tag = String(getpid(), radix: 36)
    }

    /// Isolated when Grove runs as root with `ip`, `nft` and `nsenter` and a namespace can be made; otherwise every
    /// environment shares the host's network, said once in the log. `host` asks for the shared network.
    public static func detect(logger: Logger, requested: Mode = .isolated, egressAllowed: [String] = []) async -> EnvironmentNetworks {
        guard requested == .isolated else {
            logger.notice("network: environments share the host's network (--network host)")
            return EnvironmentNetworks(mode: .host, logger: logger)
        }
        let tools = ["/usr/sbin/ip", "/usr/sbin/nft", "/usr/bin/nsenter"]
        guard geteuid() == 0, tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: $0) }) else {
            logger.warning("network: environments share the host's network (needs root, iproute2, nftables and util-linux's nsenter)")
            return EnvironmentNetworks(mode: .host, logger: logger)
        }
        let n = EnvironmentNetworks(mode: .isolated, egressAllowed: egressAllowed, logger: logger)
        await n.removeStale()
        do {
            try await n.prepareHost()
            logger.info("network: one network namespace per environment")
            return n
        } catch {
            logger.warning("network: environments share the host's network: \(error)")
            return EnvironmentNetworks(mode: .host, logger: logger)
        }
    }

    /// The environment's namespace, made on first use; nil when environments share the host's network.
    public func network(for key: String) async throws -> Network? {
        guard mode == .isolated else { return nil }
        if let n = networks[key] { return n }
        counter += 1
        let index = counter
        let name = "grove-\(tag)-\(index)"
        let veth = "gv\(tag)x\(index)"
        guard veth.count <= 15 else { throw RuntimeError("too many environment networks in one run") }
        let (host, inside) = try await freeBlock()
        let rules = """
            table ip grove {
              chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
                iifname "eth0" meta l4proto tcp dnat to 127.0.0.1
              }
              chain input {
                type nat hook input priority 100; policy accept;
                iifname "eth0" meta l4proto tcp snat to 127.0.0.1
              }
            }

            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("grove-nft-\(name).conf").path
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let steps: [[String]] = [
            ["/usr/sbin/ip", "netns", "add", name],
            ["/usr/sbin/ip", "-n", name, "link", "set", "lo", "up"],
            ["/usr/sbin/ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name],
            ["/usr/sbin/ip", "addr", "add", host + "/30", "dev", veth],
            ["/usr/sbin/ip", "link", "set", veth, "up"],
            ["/usr/sbin/ip", "-n", name, "addr", "add", inside + "/30", "dev", "eth0"],
            ["/usr/sbin/ip", "-n", name, "link", "set", "eth0", "up"],
            ["/usr/sbin/ip", "-n", name, "route", "add", "default", "via", host],
            ["/usr/bin/nsenter", "--net=/run/netns/\(name)", "--", "/usr/sbin/sysctl", "-q", "-w", "net.ipv4.conf.eth0.route_localnet=1"],
            ["/usr/bin/nsenter", "--net=/run/netns/\(name)", "--", "/usr/sbin/nft", "-f", file],
        ]
        for argv in steps {
            let out = try await AdminCommand.run(argv)
            guard out.status == 0 else {
                _ = try? await AdminCommand.run(["/usr/sbin/ip", "netns", "delete", name])
                throw RuntimeError("cannot make the network of \(key) (\(argv.dropFirst().joined(separator: " "))): \(out.text)")
            }
        }
        let n = Network(name: name, hostAddress: host, address: inside)
        networks[key] = n
        return n
    }

    /// Removes an environment's namespace (its processes stopped first); its pair goes with it.
    public func remove(_ key: String) async {
        guard let n = networks.removeValue(forKey: key) else { return }
        _ = try? await AdminCommand.run(["/usr/sbin/ip", "netns", "delete", n.name])
    }

    public func removeAll() async {
        for key in Array(networks.keys) { await remove(key) }
        if hostRulesReady { _ = try? await AdminCommand.run(["/usr/sbin/nft", "delete", "table", "inet", Self.egressTable(tag)]) }
    }

    /// Namespaces and egress tables a Grove process that no longer runs left behind (killed without its shutdown).
    func removeStale() async {
        let tables = (try? await AdminCommand.run(["/usr/sbin/nft", "list", "tables"]))?.text ?? ""
        for line in tables.split(separator: "\n") where line.hasPrefix("table inet " + Self.egressTable("")) {
            let name = String(line.dropFirst("table inet ".count)).trimmingCharacters(in: .whitespaces)
            guard let pid = Int32(name.dropFirst(Self.egressTable("").count), radix: 36), kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = try? await AdminCommand.run(["/usr/sbin/nft", "delete", "table", "inet", name])
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [] where name.hasPrefix("grove-") {
            let parts = name.split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[1], radix: 36), kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = try? await AdminCommand.run(["/usr/sbin/ip", "netns", "delete", name])
            logger.info("network: removed \(name), left by a Grove process that is gone")
        }
    }

    /// A /30 of 169.254.0.0/16 no interface of the host uses (169.254.169.0/24, where clouds keep metadata, skipped).
    func freeBlock() async throws -> (String, String) {
        let out = try await AdminCommand.run(["/usr/sbin/ip", "-4", "-o", "addr", "show"])
        let used = Set(out.text.split(separator: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "inet 169.254.") else { return nil }
            let parts = line[r.upperBound...].split(separator: "/").first?.split(separator: ".") ?? []
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]) else { return nil }
            return (a * 256 + b) / 4
        })
        // Start at a random block so servers starting together rarely race for the same one.
        let start = Int.random(in: 0..<16384)
        for i in 0..<16384 {
            let block = (start + i) % 16384
            let third = block * 4 / 256
            guard !used.contains(block), third != 169, third != 0, third != 255 else { continue }
            let base = block * 4
            return ("169.254.\(base / 256).\(base % 256 + 1)", "169.254.\(base / 256).\(base % 256 + 2)")
        }
        throw RuntimeError("no free address block in 169.254.0.0/16 for another environment network")
    }

    /// Host rules: environments may not open connections to the host itself, to each other or to private networks
    /// around the host (the cloud's or the office's: other machines, internal services) except its DNS resolvers and
    /// what `--egress-allow` opens; replies and the host's connections into them pass; their traffic to the world is
    /// masqueraded.
    func prepareHost() async throws {
        guard !hostRulesReady else { return }
        let resolvers = Self.resolvers((try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "")
        let rules = Self.hostRules(tag: tag, resolvers: resolvers, allowed: egressAllowed)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("grove-nft-host-\(tag).conf").path
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let out = try await AdminCommand.run(["/usr/sbin/nft", "-f", file])
        guard out.status == 0 else { throw RuntimeError("nft: \(out.text)") }
        _ = try? await AdminCommand.run(["/usr/sbin/sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        hostRulesReady = true
    }

    /// Networks no environment reaches unless allowed: this-network, RFC 1918, carrier-grade NAT, multicast, reserved.
    static let privateNetworks = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"]

    /// The nftables rulesets (see `prepareHost`): the table every Grove process shares, and this process's own egress
    /// table, which matches only its environments' links (`gv<tag>x<n>`), so servers with different `--egress-allow`
    /// on one host never undo each other's.
    static func hostRules(tag: String, resolvers: [String], allowed: [String]) -> String {
        let mine = "iifname \"gv\(tag)x*\""
        var egress: [String] = []
        if !resolvers.isEmpty { egress.append("\(mine) ip daddr { \(resolvers.joined(separator: ", ")) } meta l4proto { tcp, udp } th dport 53 accept") }
        if !allowed.isEmpty { egress.append("\(mine) ip daddr { \(allowed.joined(separator: ", ")) } accept") }
        egress.append("\(mine) ip daddr { \(privateNetworks.joined(separator: ", ")) } drop")
        let table = egressTable(tag)
        let lines = [
            "table inet grove", "delete table inet grove", "table inet grove {",
            "  chain input {", "    type filter hook input priority filter; policy accept;",
            "    iifname \"gv*\" ct state established,related accept", "    iifname \"gv*\" drop", "  }",
            "  chain forward {", "    type filter hook forward priority filter; policy accept;",
            "    iifname \"gv*\" oifname \"gv*\" drop", "    iifname \"gv*\" ip daddr { 127.0.0.0/8, 169.254.0.0/16 } drop", "  }", "}",
            "table inet \(table)", "delete table inet \(table)", "table inet \(table) {",
            "  chain forward {", "    type filter hook forward priority filter; policy accept;",
        ] + egress.map { "    " + $0 } + [
            "  }", "}",
            "table ip grove-nat", "delete table ip grove-nat", "table ip grove-nat {",
            "  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;",
            "    ip saddr 169.254.0.0/16 oifname != \"gv*\" masquerade", "  }", "}",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func egressTable(_ tag: String) -> String { "grove-egress-\(tag)" }

    /// The IPv4 nameservers of a resolv.conf.
    static func resolvers(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver", let address = IPv4Network(String(words[1]) + "/32") else { return nil }
            return address.address
        }
    }
}

/// An IPv4 network in CIDR notation, checked (`--egress-allow`).
public struct IPv4Network: Sendable, Equatable, CustomStringConvertible {
    public let address: String
    public let prefix: Int
    public var description: String { "\(address)/\(prefix)" }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix), String(prefix) == parts[1] else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ o in !o.isEmpty && o.count <= 3 && o.allSatisfy(\.isASCII) && Int(o).map { (0...255).contains($0) } == true })
        else { return nil }
        address = octets.map { String(Int($0) ?? 0) }.joined(separator: ".")
        self.prefix = prefix
    }
}
