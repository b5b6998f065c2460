import Foundation
@testable import GroveRuntime
import Testing

@Suite("Environment networks: egress rules")
struct EgressRulesTests {
    @Test("resolv.conf nameservers: IPv4 ones only, junk ignored")
    func resolvers() {
        let text = "# comment\nnameserver 10.255.255.53\nnameserver  192.168.1.1\nnameserver ::1\nnameserver 1.2.3\nsearch example.com\n"
            + "nameserver 10.0.0.2; drop table inet grove\nnameserver\t172.16.0.10\n"
        #expect(EnvironmentNetworks.resolvers(text) == ["10.255.255.53", "192.168.1.1", "172.16.0.10"])
    }

    @Test("CIDRs for --egress-allow: only real IPv4 networks")
    func networks() {
        #expect(IPv4Network("10.1.0.0/16")?.description == "10.1.0.0/16")
        #expect(IPv4Network("192.168.001.0/24")?.description == "192.168.1.0/24")
        for bad in ["10.1.0.0", "10.1.0.0/33", "10.1.0/16", "10.1.0.256/16", "a.b.c.d/8", "10.0.0.0/16 } accept; drop", "10.0.0.0/-1", "::1/128",
                    "10.0.0.0/08", "", "/8"] {
            #expect(IPv4Network(bad) == nil, "\(bad)")
        }
    }

    @Test("the rulesets: loopback and link-local closed for all; per process, resolvers on port 53, allowed networks, then private networks closed")
    func rules() throws {
        let text = EnvironmentNetworks.hostRules(tag: "k3x", resolvers: ["10.255.255.53"], allowed: ["10.9.0.0/16"])
        let shared = text.components(separatedBy: "table inet grove {")[1].components(separatedBy: "\n}\n")[0]
        #expect(shared.contains("127.0.0.0/8, 169.254.0.0/16 } drop") && !shared.contains("10.0.0.0/8"), "\(shared)")
        // This process's own table: only its links, resolvers on port 53, then allowed networks, then private ones closed.
        let own = text.components(separatedBy: "table inet grove-egress-k3x {")[1].components(separatedBy: "\n}\n")[0]
        let order = ["10.255.255.53", "10.9.0.0/16", "192.168.0.0/16"].compactMap { own.range(of: $0)?.lowerBound }
        #expect(order.count == 3 && order == order.sorted(), "\(own)")
        #expect(own.components(separatedBy: "iifname \"gvk3xx*\"").count == 4, "\(own)")
        #expect(own.contains("th dport 53 accept") && own.contains("172.16.0.0/12") && own.contains("100.64.0.0/10"))
        // nft itself accepts it (check mode: nothing is applied), where nft is installed and may be run.
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") else { return }
        for rules in [text, EnvironmentNetworks.hostRules(tag: "k3x", resolvers: [], allowed: [])] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("nft-\(UUID().uuidString).conf").path
            try rules.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/nft")
            p.arguments = ["-c", "-f", file]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(rules)")
        }
    }
}
