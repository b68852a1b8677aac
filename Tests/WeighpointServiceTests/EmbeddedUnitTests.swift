import WeighpointImaging
import Foundation
import Testing
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointService
import WeighpointTesting
import WeighpointJSON

/// The whole unit in one process (`EmbeddedUnit`): its own clock, weighings from memory, cameras
/// from memory; store, journal, signing, decisions and evidence real. A truck on lane 1 at
/// 36 km/h (10 m/s) is expected at front-1 (12 m) 1.2 s after its weighing and at rear-1
/// (2 m + its 9 m) 1.1 s after; with the 800 ms window it is decidable 2.0 s after.
@Suite struct EmbeddedUnitTests {
    static let frame: [UInt8] = {
        let rgb = [UInt8](repeating: 128, count: 64 * 48 * 3)
        return try! JPEGEncoder(quality: 80).encode(rgb: rgb, width: 64, height: 48)
    }()

    /// Shows frames at both cameras' expected times of a truck weighed at `t`.
    func showFrames(_ e: EmbeddedUnit, truckAt t: Timestamp) {
        e.camera("front-1").show(Self.frame, at: t.adding(microseconds: 1_200_000))
        e.camera("rear-1").show(Self.frame, at: t.adding(microseconds: 1_100_000))
    }

    func missing(_ record: JSONValue) -> [String: String] {
        var out: [String: String] = [:]
        if case .array(let items)? = record["evidence_missing"] {
            for i in items { out[i["camera"]?.stringValue ?? "?"] = i["reason"]?.stringValue }
        }
        return out
    }

    @Test func aWeighingWaitsUntilItsReadsCanHaveArrivedAndTakesTheReadsInItsWindow() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        e.source.weigh(MemoryWeighingSource.truck(seq: 7, lane: 1, time: t))
        showFrames(e, truckAt: t)
        e.unit.addReads([
            PlateRead(camera: "front-1", time: t.adding(microseconds: 1_300_000), text: "苏A12345", color: .yellow, confidence: 0.95),
            // Rear cameras give trailer plates (挂).
            PlateRead(camera: "rear-1", time: t.adding(microseconds: 1_000_000), text: "苏B5678挂", color: .yellow, confidence: 0.9),
            // 2.5 s after the front camera's expected time: outside the 800 ms window.
            PlateRead(camera: "front-1", time: t.adding(microseconds: 3_700_000), text: "苏E99999", color: .yellow, confidence: 0.99),
        ])
        #expect(await e.advance(milliseconds: 1_990) == 0, "decided before its reads could have arrived")
        #expect(e.unit.pendingCount == 1)
        #expect(await e.advance(milliseconds: 20) == 1)
        let records = try e.records()
        #expect(records.count == 1)
        #expect(records.first?["plate"]?.stringValue == "苏A12345")
        #expect(records.first?["trailer_plate"]?.stringValue == "苏B5678挂")
        #expect(records.first?["assessment"]?["decision"]?.stringValue == "overload")
        #expect(records.first?["weighing"]?["controller_seq"]?.intValue == 7)
        #expect(missing(records[0])["front-1"] == nil && missing(records[0])["rear-1"] == nil, "\(missing(records[0]))")
        #expect(try e.unit.store.journaledWeighings().isEmpty)
    }

    /// A dense run of copies of one plate from one camera (every 10 ms over 3 s, so one copy lies
    /// at the exact expected time) keeps one read per match window (800 ms: those at 0, 0.81,
    /// 1.62 and 2.43 s): the genuine read 200 ms off the expected time (1.2 s) names the vehicle,
    /// not the flood, whose nearest kept copies are 390 and 420 ms off.
    @Test func aFloodOfCopiesOfOnePlateKeepsOneReadPerWindow() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        e.source.weigh(MemoryWeighingSource.truck(seq: 3, lane: 1, time: t))
        showFrames(e, truckAt: t)
        let flood = (0..<300).map { i in
            PlateRead(camera: "front-1", time: t.adding(microseconds: Int64(i) * 10_000), text: "苏E66666", color: .yellow, confidence: 0.99)
        }
        e.unit.addReads(Array(flood[..<100]))
        e.unit.addReads([PlateRead(camera: "front-1", time: t.adding(microseconds: 1_400_000), text: "苏A12345", color: .yellow, confidence: 0.9)])
        e.unit.addReads(Array(flood[100...]))
        #expect(await e.advance(milliseconds: 2_100) == 1)
        #expect(try e.records().first?["plate"]?.stringValue == "苏A12345")
        #expect(e.unit.metrics.render().contains("weighpoint_plate_read_copies_total 296"))
    }

    /// Copies cannot hide a plate: a neighbour posting the plate a wanted vehicle carries every
    /// 0.7 s from long before it comes (each copy within the window of the one before) does not
    /// make the genuine read of it a copy of a read long gone: the record still names the plate.
    @Test func copiesOfAPlateCannotHideItsGenuineRead() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        let forged = (0..<20).map { i in
            PlateRead(camera: "front-1", time: t.adding(microseconds: -12_000_000 + Int64(i) * 700_000), text: "苏A12345", color: .yellow, confidence: 0.5)
        }
        e.unit.addReads(forged)
        e.source.weigh(MemoryWeighingSource.truck(seq: 4, lane: 1, time: t))
        showFrames(e, truckAt: t)
        e.unit.addReads([PlateRead(camera: "front-1", time: t.adding(microseconds: 1_200_000), text: "苏A12345", color: .yellow, confidence: 0.95)])
        #expect(await e.advance(milliseconds: 2_100) == 1)
        #expect(try e.records().first?["plate"]?.stringValue == "苏A12345")
    }

    @Test func afterASequenceResetTwoWaitingWeighingsWithTheSameNumberAreBothRecorded() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        e.source.weigh(MemoryWeighingSource.truck(seq: 1, lane: 1, time: t))
        e.source.weigh(MemoryWeighingSource.truck(seq: 2, lane: 1, time: t.adding(microseconds: 500_000)))
        // The controller restarted and numbers from 1 again, while both still wait.
        e.source.send(.sequenceReset(from: 2, to: 1))
        e.source.weigh(MemoryWeighingSource.truck(seq: 1, lane: 1, time: t.adding(microseconds: 1_500_000)))
        #expect(e.unit.pendingCount == 3)
        // The first weighing numbered 1 is due, the second is not yet.
        #expect(await e.advance(milliseconds: 2_100) == 1)
        #expect(e.unit.pendingCount == 2, "the second weighing numbered 1 was dropped with the first")
        #expect(await e.advance(milliseconds: 2_000) == 2)
        let seqs = try e.records().compactMap { $0["weighing"]?["controller_seq"]?.intValue }
        #expect(seqs == [1, 2, 1])
        #expect(try e.unit.store.journaledWeighings().isEmpty, "a decided weighing left journalled")
        let audit = try e.unit.store.auditEntries().map(\.event)
        #expect(audit.contains("wim_sequence_reset"))
    }

    @Test func aWeighingLeftUndecidedByAKillIsTakenOverWithItsLostFramesNamed() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        e.source.weigh(MemoryWeighingSource.truck(seq: 41, lane: 1, time: t))
        #expect(await e.advance(milliseconds: 2_100) == 1)
        e.source.weigh(MemoryWeighingSource.truck(seq: 42, lane: 1, time: e.clock.now()))
        showFrames(e, truckAt: e.clock.now())
        #expect(try e.unit.store.journaledWeighings().map(\.controllerSeq) == [42])
        try e.killAndRestart()
        // The controller is asked for what follows 42: it was acknowledged before the kill.
        #expect(e.source.resumedAfter.last == 42)
        #expect(e.unit.pendingCount == 1)
        #expect(await e.advance(milliseconds: 2_100) == 1)
        let records = try e.records()
        #expect(records.compactMap { $0["weighing"]?["controller_seq"]?.intValue } == [41, 42])
        let lost = missing(records[1])
        #expect(lost["front-1"]?.contains("stopped before this weighing was decided") == true, "\(lost)")
        #expect(lost["rear-1"]?.contains("stopped before this weighing was decided") == true, "\(lost)")
        #expect(try e.unit.store.journaledWeighings().isEmpty)
    }

    @Test func anUnpluggedCameraAndAFrameThatNeverCameAreNamedInTheRecord() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        e.camera("rear-1").unplug("no signal")
        e.camera("front-1").show(Self.frame, at: t.adding(microseconds: 9_000_000))  // far from 1.2 s
        e.source.weigh(MemoryWeighingSource.truck(seq: 3, lane: 1, time: t))
        #expect(await e.advance(milliseconds: 2_100) == 1)
        let lost = missing(try e.records()[0])
        #expect(lost["rear-1"] == "camera down: no signal")
        #expect(lost["front-1"]?.hasPrefix("no frame within") == true, "\(lost)")
        #expect(e.unit.health().degraded.contains("camera rear-1"))
    }

    @Test func aWeighingUnderTheLimitIsSettledWithoutARecord() async throws {
        let e = try EmbeddedUnit()
        e.source.weigh(MemoryWeighingSource.truck(seq: 9, lane: 1, time: e.clock.now(), grossKg: 14_000))
        #expect(await e.advance(milliseconds: 2_100) == 1)
        #expect(try e.records().isEmpty)
        #expect(try e.unit.store.journaledWeighings().isEmpty)
    }

    @Test func shutdownStopsTheInputThenDecidesEverythingPendingThenStopsTheCameras() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        e.source.weigh(MemoryWeighingSource.truck(seq: 11, lane: 1, time: t))
        e.source.weigh(MemoryWeighingSource.truck(seq: 12, lane: 1, time: t.adding(microseconds: 300_000)))
        let (flushed, order) = await e.shutDown()
        #expect(flushed == 2)
        // An event offered after the input stopped is not delivered.
        #expect(order.prefix(2) == ["input stopped, refused afterwards 1", "decided 2"])
        #expect(Set(order.dropFirst(2)) == ["camera front-1", "camera rear-1"])
        #expect(try e.records().count == 2)
        #expect(try e.unit.store.journaledWeighings().isEmpty)
        // The decided sequence is kept for the next start.
        try e.killAndRestart()
        #expect(e.source.resumedAfter.last == 12)
    }
}
