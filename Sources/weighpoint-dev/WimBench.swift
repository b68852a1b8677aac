import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCore
import WeighpointModbus
import WeighpointTesting

extension Wim {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmark WIM decoding and the poll loop against a bare libmodbus loop, side by side.",
            discussion: "Runs the simulator in-process on loopback. Build in release mode first. See BENCHMARKS.md.")

        @Option(help: "Register map.")
        var profile = "generic-wim-v1"

        @Option(help: "Vehicles queued in the simulator per run.")
        var records = 5000

        @Option(help: "Blocks decoded in memory.")
        var decodes = 200_000

        func run() throws {
            let p = try loadProfile(profile)
            var gen = TrafficGenerator(seed: 3)
            let t0 = Timestamp(microseconds: 1_795_000_000_000_000)
            let traffic = (0..<records).map { gen.vehicle(at: t0.adding(microseconds: Int64($0) * 2_000_000)) }
            print("wim bench: profile \(p.name), \(records) vehicles over Modbus TCP loopback, \(decodes) in-memory decodes")

            // Decoding alone.
            let blocks = traffic.prefix(1000).map { p.encode($0) }
            var sink = 0
            let decodeCPU = threadCPU {
                for i in 0..<decodes { sink &+= p.decode(blocks[i % blocks.count]).axleLoadsKg.count }
            }
            let decodeRate = Double(decodes) / decodeCPU
            print("decode                 \(format(1e6 / decodeRate, 2)) µs CPU per record, \(format(decodeRate / 1000, 0)) k records/s")

            // The driver's session: counter, block, ack per vehicle, decoding and events.
            let (driverWall, driverCPU) = try timedRun(p, traffic) { settings in
                let session = try WIMSession(settings, lastSequence: nil) { if case .weighing(let r) = $0 { sink &+= r.axleCount } }
                try session.connect()
                try session.drain()
                session.close()
            }
            // The same requests with libmodbus and nothing else: the floor.
            let (bareWall, bareCPU) = try timedRun(p, traffic) { settings in
                guard case .counter(let counter, let ack) = p.handshake else { throw ValidationError("bench needs a counter handshake profile") }
                let c = try ModbusClient(settings.transport, unitId: p.unitId)
                try c.connect()
                var last: UInt64 = 0
                while true {
                    let newest = p.handshakeValue(counter, try c.readHoldingRegisters(at: counter.address, count: counter.width))
                    if newest <= last { break }
                    let block = try c.readHoldingRegisters(at: p.blockAddress, count: p.blockLength)
                    last = UInt64(block[0]) << 16 | UInt64(block[1])
                    try c.writeRegisters(at: ack.address, p.handshakeRegisters(last, ack))
                }
                c.close()
            }
            func line(_ name: String, _ wall: Double, _ cpu: Double) -> String {
                "\(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(format(Double(records) / wall, 0)) vehicles/s, \(format(cpu / Double(records) * 1e6, 1)) µs CPU per vehicle (poll thread)"
            }
            print(line("driver (WIMSession)", driverWall, driverCPU))
            print(line("bare libmodbus loop", bareWall, bareCPU))
            print("ratio driver/bare: CPU per vehicle \(format(driverCPU / bareCPU, 2))×, throughput \(format(bareWall / driverWall, 2))×")
            _ = sink
        }

        /// Queues `traffic` in a fresh simulator and times `body` (wall, this thread's CPU).
        func timedRun(_ p: WIMProfile, _ traffic: [WIMRecord], _ body: (WIMLinkSettings) throws -> Void) throws -> (Double, Double) {
            let sim = try WIMSimulator(profile: p, transport: .tcp(host: "127.0.0.1", port: 0), capacity: traffic.count)
            try sim.start()
            defer { sim.stop() }
            for r in traffic { sim.enqueue(r) }
            let settings = WIMLinkSettings(transport: .tcp(host: "127.0.0.1", port: sim.port), profile: p)
            let start = Date()
            var failure: Error?
            let cpu = threadCPU {
                do { try body(settings) } catch { failure = error }
            }
            if let failure { throw failure }
            guard sim.pendingCount == 0 else { throw ValidationError("\(sim.pendingCount) vehicles left unread") }
            return (Date().timeIntervalSince(start), cpu)
        }
    }
}
