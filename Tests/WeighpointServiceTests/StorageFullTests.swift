import Foundation
import Testing
import WeighpointCore
import WeighpointEvidence
import WeighpointJSON
import WeighpointService
import WeighpointTesting

/// A full disk through the whole unit in one process (issue 18), the disk's floor moved instead
/// of the disk filled (`Scripts/fulldisk-test` fills a real one): the controller is acknowledged
/// only for weighings the journal holds; below the evidence floor weighings are still
/// journalled, their records refused, and decided again as soon as space is back.
@Suite struct StorageFullTests {
    /// Moves the store's floor so that `free` bytes are what it sees above it.
    func setFloor(_ e: EmbeddedUnit, journal: Bool) {
        let free = e.unit.store.freeBytes()
        // Evidence floor above what is free; the journal's reserve (a quarter of the floor) above it too, or not.
        e.unit.store.minimumFreeBytes = journal ? free * 4 + (64 << 20) : free + (16 << 20)
    }

    @Test func belowTheFloorWeighingsAreJournalledAndTheirRecordsDecidedWhenSpaceIsBack() async throws {
        let e = try EmbeddedUnit()
        let floor = e.unit.store.minimumFreeBytes
        setFloor(e, journal: false)
        if e.unit.store.reserveBytes! >= e.unit.store.freeBytes() {
            Issue.record("this disk is too full for the test: \(e.unit.store.freeBytes()) bytes free")
            return
        }
        #expect(e.source.weigh(MemoryWeighingSource.truck(seq: 1, lane: 1, time: e.clock.now())), "journalled, so acknowledged")
        await e.advance(milliseconds: 2_100)
        #expect(try e.records().isEmpty)
        #expect(try e.unit.store.journaledWeighings().count == 1, "the refused record's weighing stays journalled")
        let h = e.unit.health()
        #expect(h.status == .failing && h.store.hasPrefix("refusing new evidence"), "\(h.store)")
        // Still below: nothing changes.
        e.unit.maintainStorage()
        #expect(try e.records().isEmpty)
        // Space is back: evidence is taken again at the next check, and the weighing decided.
        e.unit.store.minimumFreeBytes = floor
        e.unit.maintainStorage()
        #expect(e.unit.store.refusalReason == nil && e.unit.health().status != .failing)
        await e.advance(milliseconds: 20)
        let r = try e.records()
        #expect(r.count == 1 && r[0]["assessment"]?["decision"]?.stringValue == "overload")
        #expect(try e.unit.store.journaledWeighings().isEmpty)
        let audit = try e.unit.store.auditEntries().map(\.event)
        #expect(audit.contains("storage_full") && audit.contains("storage_resumed"), "\(audit)")
    }

    @Test func aWeighingTheJournalCannotHoldIsNotAcknowledgedAndIsTakenWhenOfferedAgain() async throws {
        let e = try EmbeddedUnit()
        let floor = e.unit.store.minimumFreeBytes
        setFloor(e, journal: true)
        let truck = MemoryWeighingSource.truck(seq: 7, lane: 1, time: e.clock.now())
        #expect(!e.source.weigh(truck), "acknowledged without being journalled")
        #expect(try e.unit.pendingCount == 0 && e.unit.store.journaledWeighings().isEmpty)
        let h = e.unit.health()
        #expect(h.status == .failing && h.alarms.contains { $0.hasPrefix("wim: weighings not journalled since") }, "\(h.alarms)")
        #expect(e.unit.metrics.value("weighpoint_wim_not_journalled_total") == 1)
        // The controller offers it again once there is room: taken, not mistaken for a repeat.
        e.unit.store.minimumFreeBytes = floor
        #expect(e.source.weigh(truck))
        #expect((e.unit.metrics.value("weighpoint_wim_repeats_total") ?? 0) == 0)
        await e.advance(milliseconds: 2_100)
        #expect(try e.records().compactMap { $0["weighing"]?["controller_seq"]?.intValue } == [7])
        #expect(!e.unit.health().alarms.contains { $0.hasPrefix("wim:") })
    }
}
