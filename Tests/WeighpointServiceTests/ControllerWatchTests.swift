import Foundation
import Testing
import WeighpointCore
import WeighpointEvidence
import WeighpointJSON
import WeighpointModbus
import WeighpointService
import WeighpointTesting

/// The controller as a faulty device (issue 17), through the whole unit in one process: records
/// beyond the profile's physical bounds, from the future or on a lane the station does not have
/// are invalid weighings decided at once; a weighing shown twice is recorded once; a controller
/// whose numbering keeps starting again is faulty, and audited once per episode; SIGTERM's
/// decisions stop at the stop budget and the rest is decided at the next start.
@Suite struct ControllerWatchTests {
    func invalidReasons(_ r: JSONValue) -> [String] {
        guard case .array(let a)? = r["weighing"]?["invalid_reasons"] else { return [] }
        return a.compactMap(\.stringValue)
    }

    @Test func implausibleRecordsAreInvalidAtOnceAndNeverViolations() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        // Dated in 2100 (the 0xFFFF registers of a corrupt controller point further still).
        e.source.weigh(MemoryWeighingSource.truck(seq: 1, lane: 1, time: Timestamp(rfc3339: "2100-01-01T00:00:00Z")!))
        // 70 t on one axle: beyond any WIM controller's range (an overload of 21 t stays plausible).
        var heavy = MemoryWeighingSource.truck(seq: 2, lane: 1, time: t)
        heavy.axleLoadsKg = [7_000, 70_000]
        heavy.grossKg = 77_000
        e.source.weigh(heavy)
        // A lane the station does not have.
        e.source.weigh(MemoryWeighingSource.truck(seq: 3, lane: 5, time: t.adding(microseconds: 500_000)))
        // An overloaded truck, plausible: a violation as ever.
        e.source.weigh(MemoryWeighingSource.truck(seq: 4, lane: 1, time: t.adding(microseconds: 900_000)))
        #expect(await e.advance(milliseconds: 20) == 3, "the implausible ones waited")
        #expect(e.unit.pendingCount == 1)
        #expect(await e.advance(milliseconds: 3_000) == 1)
        let records = try e.records()
        let bySeq = Dictionary(uniqueKeysWithValues: records.map { ($0["weighing"]?["controller_seq"]?.intValue ?? -1, $0) })
        #expect(bySeq[1]?["assessment"]?["decision"]?.stringValue == "invalid" && invalidReasons(bySeq[1]!).contains { $0.hasPrefix("implausible_time") })
        #expect(bySeq[2]?["assessment"]?["decision"]?.stringValue == "invalid" && invalidReasons(bySeq[2]!).contains { $0.hasPrefix("implausible_axle_load") })
        #expect(bySeq[3]?["assessment"]?["decision"]?.stringValue == "invalid" && invalidReasons(bySeq[3]!).contains { $0.hasPrefix("lane_unknown") })
        #expect(bySeq[4]?["assessment"]?["decision"]?.stringValue == "overload" && invalidReasons(bySeq[4]!).isEmpty)
        #expect(try e.unit.store.journaledWeighings().isEmpty)
        // Three in ten minutes: the controller is alarmed.
        let h = e.unit.health()
        #expect(h.degraded.contains("wim controller") && h.alarms.contains { $0.contains("3 implausible weighings in the last 10 minutes") }, "\(h.alarms)")
        #expect(e.unit.metrics.value(UnitMetrics.series("weighpoint_wim_implausible_total", [("reason", "implausible_time")])) == 1)
    }

    @Test func theSameWeighingShownTwiceIsRecordedOnce() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        let truck = MemoryWeighingSource.truck(seq: 999, lane: 1, time: t)
        e.source.weigh(truck)
        var again = truck
        again.sequence = 1000  // a controller replaying its memory under another number
        e.source.weigh(again)
        e.source.weigh(truck)
        await e.advance(milliseconds: 2_100)
        #expect(try e.records().count == 1)
        #expect(e.unit.metrics.value("weighpoint_wim_repeats_total") == 2)
    }

    @Test func aFlappingControllerIsFaultyAndAuditedOncePerEpisode() async throws {
        let e = try EmbeddedUnit()
        let before = try e.unit.store.auditEntries().count
        for i in 0..<40 { e.source.send(.sequenceReset(from: UInt64(1000 - i % 2), to: UInt64(999 + i % 2))) }
        let events = try e.unit.store.auditEntries().dropFirst(before).map(\.event)
        #expect(events == ["wim_sequence_reset", "wim_controller_faulty"], "\(events)")
        #expect(e.unit.health().alarms.contains { $0.hasPrefix("wim controller faulty: 40 sequence resets or numbers out of order in the last hour") })
        // Its weighings are invalid while it is faulty, and not violations.
        e.source.weigh(MemoryWeighingSource.truck(seq: 5, lane: 1, time: e.clock.now()))
        #expect(await e.advance(milliseconds: 20) == 1)
        let r = try #require(try e.records().last)
        #expect(r["assessment"]?["decision"]?.stringValue == "invalid" && invalidReasons(r).contains { $0.hasPrefix("controller_sequence_unstable") }, "\(invalidReasons(r))")
        // An hour without a reset: trusted again; a new reset begins a new episode.
        e.clock.advance(milliseconds: 3_601_000)
        #expect(e.unit.health().alarms.isEmpty)
        e.source.weigh(MemoryWeighingSource.truck(seq: 6, lane: 1, time: e.clock.now()))
        await e.advance(milliseconds: 2_100)
        #expect(try e.records().last?["assessment"]?["decision"]?.stringValue == "overload")
        e.source.send(.sequenceReset(from: 6, to: 1))
        #expect(try e.unit.store.auditEntries().dropFirst(before).map(\.event) == ["wim_sequence_reset", "wim_controller_faulty", "wim_sequence_reset"])
    }

    /// A weighing whose number went back waits for the record after it: a new run (a reset)
    /// and it is decided as any other; the old run going on and it is invalid, never a violation;
    /// no record within the hold and it is invalid as unconfirmed.
    @Test func aWeighingWhoseNumberWentBackIsHeldUntilTheNextRecordTells() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        func decision(_ seq: Int64) throws -> (String?, [String]) {
            let r = try e.records().last(where: { $0["weighing"]?["controller_seq"]?.intValue == seq })
            return (r?["assessment"]?["decision"]?.stringValue, r.map(invalidReasons) ?? [])
        }
        e.source.weigh(MemoryWeighingSource.truck(seq: 10, lane: 1, time: t))
        // Numbered 3 after 10: held past its lane's deadline until the next record tells.
        e.source.send(.sequenceWentBack(from: 10, to: 3))
        e.source.weigh(MemoryWeighingSource.truck(seq: 3, lane: 1, time: t.adding(microseconds: 500_000)))
        await e.advance(milliseconds: 5_000)
        #expect(try decision(10).0 == "overload")
        #expect(try decision(3).0 == nil && e.unit.pendingCount == 1, "decided before the next record told")
        // The run goes on from 10: 3 was a wrong number.
        e.source.send(.sequenceOutOfOrder(sequence: 3, after: 10, next: 11))
        e.source.weigh(MemoryWeighingSource.truck(seq: 11, lane: 1, time: e.clock.now()))
        await e.advance(milliseconds: 20)
        let (d3, r3) = try decision(3)
        #expect(d3 == "invalid" && r3.contains { $0.hasPrefix("sequence_out_of_order") }, "\(r3)")
        // Numbered 1 after 11, then 2: the controller counts anew; 1 is an overload as any other.
        e.source.send(.sequenceWentBack(from: 11, to: 1))
        e.source.weigh(MemoryWeighingSource.truck(seq: 1, lane: 1, time: e.clock.now()))
        await e.advance(milliseconds: 5_000)
        #expect(try decision(1).0 == nil)
        e.source.send(.sequenceReset(from: 11, to: 1))
        e.source.weigh(MemoryWeighingSource.truck(seq: 2, lane: 1, time: e.clock.now()))
        await e.advance(milliseconds: 5_000)
        #expect(try decision(1) == ("overload", []))
        #expect(try decision(2).0 == "overload")
        // Numbered 1 after 2, and nothing after it: invalid when the hold ends.
        e.source.send(.sequenceWentBack(from: 2, to: 1))
        e.source.weigh(MemoryWeighingSource.truck(seq: 1, lane: 1, time: e.clock.now()))
        await e.advance(milliseconds: 590_000)
        #expect(e.unit.pendingCount == 1)
        await e.advance(milliseconds: 20_000)
        let (d1, r1) = try decision(1)
        #expect(d1 == "invalid" && r1.contains { $0.hasPrefix("sequence_unconfirmed") }, "\(r1)")
        #expect(try e.unit.store.journaledWeighings().isEmpty)
        // One audit entry for the episode (the out-of-order number began it).
        let audit = try e.unit.store.auditEntries().map(\.event).filter { $0.hasPrefix("wim_") }
        #expect(audit == ["wim_sequence_out_of_order"], "\(audit)")
        #expect(e.unit.metrics.value("weighpoint_wim_sequence_out_of_order_total") == 1)
    }

    @Test func shutdownStopsAtItsBudgetAndTheRestIsDecidedAtTheNextStart() async throws {
        let e = try EmbeddedUnit()
        let t = e.clock.now()
        for i in 1...5 { e.source.weigh(MemoryWeighingSource.truck(seq: UInt64(i), lane: 1, time: t.adding(microseconds: Int64(i) * 2_000_000))) }
        e.unit.stopInput()
        // A budget already spent: nothing is committed, everything stays journalled.
        #expect(await e.unit.decideDue(flush: true, stopBy: .now - .seconds(1)) == 0)
        #expect(try e.unit.store.journaledWeighings().count == 5)
        try e.killAndRestart()
        await e.advance(milliseconds: 20_000)
        let seqs = try e.records().compactMap { $0["weighing"]?["controller_seq"]?.intValue }.sorted()
        #expect(seqs == [1, 2, 3, 4, 5])
        #expect(try e.unit.store.journaledWeighings().isEmpty)
    }

    /// A controller flapping as fast as it is polled is counted in bounded memory.
    @Test func aControllerFlappingWithoutEndIsCountedInBoundedMemory() {
        let e = try! EmbeddedUnit()
        for i in 0..<2_500 { e.source.send(.sequenceReset(from: UInt64(1000 - i % 2), to: UInt64(999 + i % 2))) }
        #expect(e.unit.health().alarms.contains { $0.hasPrefix("wim controller faulty: at least 2000 sequence resets or numbers out of order in the last hour") }, "\(e.unit.health().alarms)")
    }
}
