// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "grove",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "grove", targets: ["grove"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssh.git", from: "0.15.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        .target(name: "GroveModel", swiftSettings: strict),
        .target(name: "GroveProcess", swiftSettings: strict),
        .target(
            name: "GroveStore",
            dependencies: [
                "GroveModel",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(name: "GroveGit", dependencies: ["GroveModel", "GroveConfig", "GroveProcess"], swiftSettings: strict),
        .target(name: "GroveConfig", dependencies: ["GroveModel", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .target(name: "GroveDriver", dependencies: ["GroveModel", "GroveConfig"], swiftSettings: strict),
        .target(name: "GroveRuntime", dependencies: ["GroveConfig", "GroveProcess", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .target(
            name: "GroveBuild",
            dependencies: ["GroveModel", "GroveConfig", "GroveGit", "GroveRuntime", "GroveDriver", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(name: "GroveVolumes", dependencies: ["GroveRuntime", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .target(name: "GroveServices", dependencies: ["GroveModel", "GroveConfig", "GroveRuntime", "GroveVolumes", .product(name: "Logging", package: "swift-log"),
                                               .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: strict),
        .target(
            name: "GroveTLS",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(name: "GroveRouter", dependencies: ["GroveModel", "GroveConfig", "GroveRuntime", "GroveTLS", "GroveDriver", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .target(
            name: "GroveOrchestrator",
            dependencies: [
                "GroveModel", "GroveStore", "GroveGit", "GroveConfig", "GroveDriver",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "GroveLocalDriver",
            dependencies: [
                "GroveDriver", "GroveModel", "GroveConfig", "GroveGit", "GroveRuntime", "GroveBuild", "GroveRouter", "GroveServices", "GroveVolumes",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "GroveAPI",
            dependencies: [
                "GroveModel", "GroveStore", "GroveOrchestrator", "GroveGit", "GroveTLS", "GroveDriver", "GroveLocalDriver", "GroveRuntime", "GroveCredentials", "GroveSSH", "GroveConsole",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: strict
        ),
        .target(name: "GroveCredentials", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(name: "GroveConsole", dependencies: ["GroveModel", "GroveStore", "GroveCredentials", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(
            name: "GroveSSH",
            dependencies: [
                "GroveCredentials",
                "GroveProcess",
                .product(name: "NIOSSH", package: "swift-nio-ssh"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(name: "GroveClient", dependencies: ["GroveModel"], swiftSettings: strict),
        .executableTarget(
            name: "grove",
            dependencies: [
                "GroveModel", "GroveStore", "GroveOrchestrator", "GroveAPI", "GroveClient", "GroveRuntime", "GroveProcess", "GroveConfig", "GroveSSH",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "GroveCredentialsTests", dependencies: ["GroveCredentials"], swiftSettings: strict),
        .testTarget(name: "GroveSSHTests", dependencies: ["GroveSSH", "GroveCredentials"], swiftSettings: strict),
        .testTarget(name: "GroveModelTests", dependencies: ["GroveModel"], swiftSettings: strict),
        .testTarget(name: "GroveConsoleTests", dependencies: ["GroveConsole", "GroveModel"], swiftSettings: strict),
        .testTarget(name: "GroveConfigTests", dependencies: ["GroveConfig"], swiftSettings: strict),
        .testTarget(name: "GroveRouterTests", dependencies: ["GroveRouter", "GroveConfig", "GroveDriver"], swiftSettings: strict),
        .testTarget(name: "GroveOrchestratorTests", dependencies: ["GroveOrchestrator", "GroveDriver", "GroveStore", "GroveModel", "GroveConfig", "GroveGit",
                                                                   .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "GroveTLSTests", dependencies: ["GroveTLS"], swiftSettings: strict),
        .testTarget(name: "GroveVolumesTests", dependencies: ["GroveVolumes", "GroveRuntime", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(name: "GroveStoreTests", dependencies: ["GroveStore", "GroveModel", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                                                       .product(name: "PostgresNIO", package: "postgres-nio")], swiftSettings: strict),
        .testTarget(name: "GroveAPITests", dependencies: ["GroveAPI", "GroveStore", "GroveOrchestrator", "GroveModel", "GroveSSH", "GroveCredentials",
                                                     .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                                                     .product(name: "CompressNIO", package: "compress-nio")],
                    swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["GroveModel", "GroveClient", "GroveStore", "grove", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
    ]
)
