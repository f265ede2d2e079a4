// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// The classic GenServer programs: each an executable in `Examples/<Name>` over the shared `ClassicServers` library.
let classicExamples = [
    "Counter", "Stack", "KeyValueStore", "SessionStore", "ConfigurableCache", "PeriodicTask", "CacheWithTimeout",
    "SlowOperation",
]

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
        .testTarget(
            name: "StateServerTests",
            dependencies: [
                "StateServer", "StateServerTesting", "Machines", "GettingStartedDoor", "ClassicServers", "statem",
            ],
            swiftSettings: strict
        ),
    ]
        + classicExamples.map { name in
            .executableTarget(
                name: name, dependencies: ["ClassicServers", "StateServer"], path: "Examples/\(name)",
                swiftSettings: strict)
        }
)
