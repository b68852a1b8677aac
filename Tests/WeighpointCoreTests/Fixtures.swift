@testable import WeighpointCore

let t0 = Timestamp(rfc3339: "2026-11-20T08:00:00.000Z")!

func at(_ seconds: Double) -> Timestamp { t0.adding(microseconds: Int64((seconds * 1_000_000).rounded())) }

func dual(_ kg: Int) -> Axle { Axle(kg: kg, tyres: .dual) }
func single(_ kg: Int) -> Axle { Axle(kg: kg, tyres: .single) }

func weighing(
    seq: UInt64 = 1, lane: Int = 1, time: Timestamp = t0, speed: Double = 54, body: VehicleBody = .rigid,
    drive: Int? = 1, axles: [Axle], groups: [Int]? = nil, length: Int? = 12_000, flags: [WeighingFlag] = []
) -> Weighing {
    Weighing(seq: seq, lane: lane, time: time, speedKmh: speed, body: body, driveAxles: drive, axles: axles,
             groups: groups ?? Array(repeating: 1, count: axles.count), lengthMm: length, flags: flags)
}
