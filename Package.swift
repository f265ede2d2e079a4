// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "StateServer",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "StateServer", targets: ["StateServer"]),
        .library(name: "StateServerTesting", targets: ["StateServerTesting"]),
        .library(name: "Machines", targets: ["Machines"]),
        .executable(name: "statem", targets: ["statem"]),
    ],
    targets: [
        .target(name: "StateServer", swiftSettings: strict),
        .target(name: "StateServerTesting", dependencies: ["StateServer"], swiftSettings: strict),
        .target(name: "Machines", dependencies: ["StateServer"], swiftSettings: strict),
        .executableTarget(name: "statem", dependencies: ["StateServer", "Machines"], swiftSettings: strict),
        .target(
            name: "GettingStartedDoor", dependencies: ["StateServer"], path: "Examples/GettingStarted/Door",
            swiftSettings: strict),
        .executableTarget(
            name: "GettingStarted", dependencies: ["StateServer", "GettingStartedDoor"],
            path: "Examples/GettingStarted", exclude: ["Door"], swiftSettings: strict),
        .target(
            name: "ClassicServers", dependencies: ["StateServer"], path: "Examples/ClassicServers",
            swiftSettings: strict),
        .executableTarget(
            name: "Counter", dependencies: ["ClassicServers", "StateServer"], path: "Examples/Counter",
            swiftSettings: strict),
        .executableTarget(
            name: "Stack", dependencies: ["ClassicServers", "StateServer"], path: "Examples/Stack",
            swiftSettings: strict),
        .executableTarget(
            name: "KeyValueStore", dependencies: ["ClassicServers", "StateServer"], path: "Examples/KeyValueStore",
            swiftSettings: strict),
        .executableTarget(
            name: "SessionStore", dependencies: ["ClassicServers", "StateServer"], path: "Examples/SessionStore",
            swiftSettings: strict),
        .executableTarget(
            name: "ConfigurableCache", dependencies: ["ClassicServers", "StateServer"], path: "Examples/ConfigurableCache",
            swiftSettings: strict),
        .executableTarget(
            name: "PeriodicTask", dependencies: ["ClassicServers", "StateServer"], path: "Examples/PeriodicTask",
            swiftSettings: strict),
        .executableTarget(
            name: "CacheWithTimeout", dependencies: ["ClassicServers", "StateServer"], path: "Examples/CacheWithTimeout",
            swiftSettings: strict),
        .executableTarget(
            name: "SlowOperation", dependencies: ["ClassicServers", "StateServer"], path: "Examples/SlowOperation",
            swiftSettings: strict),
        .testTarget(
            name: "StateServerTests",
            dependencies: [
                "StateServer", "StateServerTesting", "Machines", "GettingStartedDoor", "ClassicServers", "statem",
            ],
            swiftSettings: strict
        ),
    ]
)
