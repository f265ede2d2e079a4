// swift-tools-version:6.0
import PackageDescription

// The benchmarks are their own package so that `swift run -c release --package-path Benchmarks` builds them in
// release mode, in their own `.build`, without adding an executable (or a dependency) to the library's package.
let package = Package(
    name: "StateServerBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "StateServer", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "StateServerBenchmarks",
            dependencies: [.product(name: "StateServer", package: "StateServer")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
