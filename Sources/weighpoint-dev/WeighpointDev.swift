import ArgumentParser
import Foundation
import WeighpointCommandLine

/// The developer's tool: simulators, the demo, load generators and every benchmark. It links
/// WeighpointTesting and is never shipped: a simulator on a legal-metrology device would be a
/// way to fake weighings. The .deb carries weighpointd and weighpoint only (Scripts/check-layout).
@main
struct WeighpointDev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weighpoint-dev",
        abstract: "Development tools for Weighpoint: simulators, the demo, a unit on replay cameras, load and benchmarks (never shipped).",
        subcommands: [
            Simulate.self, Demo.self, UnitCommand.self, Store.self, Plates.self, Wim.self, CameraCommand.self,
            DeliveryBench.self, UnitBench.self,
        ])
}

/// `weighpoint-dev plates bench`.
struct Plates: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Plate-list benchmarks.", subcommands: [Bench.self])
}

/// `weighpoint-dev wim bench`.
struct Wim: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "WIM decoding and poll-loop benchmarks.", subcommands: [Bench.self])
}

/// `weighpoint-dev camera make-samples|bench`.
struct CameraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camera", abstract: "Sample frames and the capture benchmark.", subcommands: [MakeSamples.self, Bench.self])
}
