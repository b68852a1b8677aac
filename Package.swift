// swift-tools-version: 6.1
// Weighpoint: firmware service of a roadside overload-enforcement unit.
// Dependency arrows go one way: executables → WeighpointService → (Modbus, Capture, Evidence,
// Console) → WeighpointCore. The core imports no C library and does no I/O.
import PackageDescription

let package = Package(
    name: "Weighpoint",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "weighpoint", targets: ["weighpoint"]),
        .executable(name: "weighpointd", targets: ["weighpointd"]),
        .executable(name: "weighpoint-dev", targets: ["weighpoint-dev"]),
        .executable(name: "weighpoint-case-sink", targets: ["weighpoint-case-sink"]),
        .library(name: "WeighpointCore", targets: ["WeighpointCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.33.0"),
    ],
    targets: [
        // C system libraries. Each module map includes the real header plus a small shim header
        // for what Swift cannot import (function-like macros, variadic functions).
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        .systemLibrary(name: "CV4L2", pkgConfig: "libv4l2", providers: [.apt(["libv4l-dev"])]),
        .systemLibrary(name: "CSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),

        // Plate detection and reading (OpenCV dnn, HyperLPR v1 networks) behind a C API. Only the
        // OpenCV modules it uses are linked: core, imgproc, dnn.
        .target(
            name: "CPlateRecognizer",
            cxxSettings: [.unsafeFlags(["-I/usr/include/opencv4", "-O2"])],
            linkerSettings: [.linkedLibrary("opencv_core"), .linkedLibrary("opencv_imgproc"), .linkedLibrary("opencv_dnn")]),

        // Linux calls Swift's Glibc module does not import (adjtimex).
        .target(name: "CLinux"),

        // Pure domain: plates, limits, assessment, association. No Foundation, no Glibc.
        .target(name: "WeighpointCore"),
        // The only JSON: a value type, the RFC 8785 writer and a strict bounded parser. Stdlib only.
        .target(name: "WeighpointJSON"),
        // The operating system's door for files and clocks: syscalls with EINTR and typed errors,
        // durable file replacement, injectable clocks, worker threads.
        .target(name: "WeighpointSystem", dependencies: ["WeighpointCore"]),
        // TOML files read one way: a collecting reader naming file, line and key (TOMLKit underneath).
        .target(name: "WeighpointTOML", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        // What the HTTP listeners share below their routes: the connection guard.
        .target(
            name: "WeighpointHTTP",
            dependencies: [
                "WeighpointSystem", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]),
        // The `weighpoint replay` JSON Lines format (SCENARIOS.md) on top of the core.
        .target(name: "WeighpointScenario", dependencies: ["WeighpointCore", "WeighpointJSON"]),

        .target(
            name: "WeighpointModbus",
            dependencies: ["WeighpointCore", "WeighpointJSON", "WeighpointSystem", "WeighpointTOML", "CModbus"]),
        // Digests, signatures and PIN hashing through OpenSSL libcrypto: no files, no store.
        .target(name: "WeighpointCrypto", dependencies: ["COpenSSL"]),
        // Pictures: JPEG encode/decode (libjpeg-turbo), RGB canvas, text (FreeType), the composite
        // evidence picture. Knows pixels, not cameras.
        .target(name: "WeighpointImaging", dependencies: ["CTurboJPEG", "CFreeType"]),
        .target(name: "WeighpointCapture", dependencies: ["WeighpointCore", "WeighpointSystem", "WeighpointImaging", "CV4L2"]),
        .target(
            name: "WeighpointEvidence",
            dependencies: ["WeighpointCore", "WeighpointJSON", "WeighpointSystem", "WeighpointCrypto", "CLinux", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "WeighpointConsole", dependencies: ["WeighpointCore", "WeighpointSystem", "WeighpointCrypto", "CSerialPort"]),
        // Built-in plate recognition: frames in, GA 36 readings (decoded and voted in the core) out.
        .target(name: "WeighpointRecognition", dependencies: ["WeighpointCore", "WeighpointCapture", "WeighpointImaging", "WeighpointCrypto", "CPlateRecognizer"]),
        // Delivery to the case system: the HTTPS client with mutual TLS and the outbox drain.
        .target(
            name: "WeighpointUplink",
            dependencies: [
                "WeighpointJSON", "WeighpointEvidence", "WeighpointCrypto",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        // The reference case-system receiver (`weighpoint case-sink`).
        .target(
            name: "WeighpointCaseSink",
            dependencies: [
                "WeighpointJSON", "WeighpointEvidence", "WeighpointCrypto", "WeighpointSystem", "WeighpointHTTP", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Simulators and synthetic data shared by tests, the demo and benchmarks.
        .target(
            name: "WeighpointTesting",
            dependencies: [
                "WeighpointJSON", "CModbus", "WeighpointCore", "WeighpointModbus", "WeighpointConsole", "WeighpointService", "WeighpointSystem", "WeighpointCapture", "WeighpointImaging",
                "WeighpointEvidence", "WeighpointCrypto", .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .target(
            name: "WeighpointService",
            dependencies: [
                "WeighpointJSON", "WeighpointCore", "WeighpointModbus", "WeighpointCapture", "WeighpointImaging", "WeighpointEvidence", "WeighpointCrypto",
                "WeighpointConsole", "WeighpointUplink", "WeighpointRecognition", "WeighpointSystem", "WeighpointTOML",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "WeighpointHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),

        // What the command-line tools share: error output, Modbus link options, measuring.
        .target(
            name: "WeighpointCommandLine",
            dependencies: ["WeighpointModbus", "WeighpointSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // The unit's daemon (shipped).
        .executableTarget(
            name: "weighpointd",
            dependencies: [
                "WeighpointService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The tool shipped on the unit: identity, records, verify, keys, replay, plates, cameras,
        // wim read, deliver, console. It must not link WeighpointTesting (Scripts/check-layout).
        .executableTarget(
            name: "weighpoint",
            dependencies: [
                "WeighpointCommandLine", "WeighpointService", "WeighpointScenario", "WeighpointJSON", "WeighpointEvidence", "WeighpointCrypto", "WeighpointModbus",
                "WeighpointConsole", "WeighpointRecognition", "WeighpointUplink", "WeighpointCapture", "WeighpointImaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Development only, never shipped: simulators, the demo, a unit on replay cameras, load
        // generators and every benchmark.
        .executableTarget(
            name: "weighpoint-dev",
            dependencies: [
                "WeighpointCommandLine", "WeighpointTesting", "WeighpointService", "WeighpointScenario", "WeighpointJSON", "WeighpointEvidence", "WeighpointCrypto", "WeighpointModbus",
                "WeighpointConsole", "WeighpointRecognition", "WeighpointUplink", "WeighpointCaseSink", "WeighpointCapture", "WeighpointImaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The reference case-system receiver: runs at the case system, not on a unit.
        .executableTarget(
            name: "weighpoint-case-sink",
            dependencies: [
                "WeighpointCommandLine", "WeighpointCaseSink", "WeighpointEvidence", "WeighpointUplink", "WeighpointSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The console's input path under libFuzzer (`make fuzz-console`); built normally it
        // replays a corpus through the same checks.
        .executableTarget(name: "console-fuzz", dependencies: ["WeighpointConsole", "WeighpointCore", "WeighpointTesting"]),
        // Every parser facing outside bytes (plate reads, record envelopes, scenarios, WIM register
        // blocks, JPEG frames) under libFuzzer (`make fuzz`); built normally it replays Fuzz/corpus.
        .executableTarget(
            name: "input-fuzz",
            dependencies: [
                "WeighpointCore", "WeighpointEvidence", "WeighpointImaging", "WeighpointJSON", "WeighpointModbus", "WeighpointScenario",
                "WeighpointService", "WeighpointTesting",
            ]),

        .testTarget(
            name: "WeighpointCoreTests",
            dependencies: [
                "WeighpointCore", "WeighpointTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "WeighpointScenarioTests",
            dependencies: ["WeighpointJSON", "WeighpointScenario", "WeighpointCore", "WeighpointTesting"],
            resources: [.copy("Scenarios")]),
        .testTarget(
            name: "WeighpointServiceTests",
            dependencies: [
                "WeighpointTOML", "WeighpointJSON", "WeighpointService", "WeighpointTesting", "WeighpointEvidence", "WeighpointCrypto", "WeighpointCore", "WeighpointModbus",
                "WeighpointConsole", "WeighpointRecognition", "WeighpointHTTP",
                .product(name: "Logging", package: "swift-log"), .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .testTarget(
            name: "WeighpointUplinkTests",
            dependencies: [
                "WeighpointUplink", "WeighpointCaseSink", "WeighpointHTTP", "WeighpointCapture", "WeighpointEvidence", "WeighpointCrypto", "WeighpointTesting", "WeighpointCore",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        .testTarget(name: "WeighpointJSONTests", dependencies: ["WeighpointJSON"]),
        .testTarget(name: "WeighpointCaptureTests", dependencies: ["WeighpointCapture", "WeighpointImaging", "WeighpointCore", "WeighpointTesting"]),
        .testTarget(name: "WeighpointRecognitionTests", dependencies: ["WeighpointJSON", "WeighpointRecognition", "WeighpointCapture", "WeighpointImaging", "WeighpointCore", "WeighpointEvidence"]),
        .testTarget(
            name: "WeighpointConsoleTests",
            dependencies: ["WeighpointConsole", "WeighpointCore", "WeighpointTesting", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "WeighpointEvidenceTests", dependencies: ["WeighpointJSON", "WeighpointEvidence", "WeighpointCrypto", "WeighpointCore", "WeighpointTesting"]),
        .testTarget(
            name: "WeighpointModbusTests",
            dependencies: ["WeighpointJSON", "WeighpointModbus", "WeighpointTesting", "WeighpointCore"],
            resources: [.copy("Traces"), .copy("Peers")]),
    ]
)
