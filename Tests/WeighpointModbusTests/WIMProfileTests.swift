import Foundation
import Testing
import WeighpointCore
@testable import WeighpointModbus

@Suite struct WIMProfileTests {
    @Test(arguments: ["generic-wim-v1", "acme-x2"])
    func bothProfilesLoadAndRoundTripTraffic(name: String) throws {
        let p = try profile(name)
        #expect(p.name == name)
        for r in traffic(200, flagged: 0.3) {
            let back = p.decode(p.encode(r))
            #expect(back.sequence == r.sequence && back.time == r.time && back.lane == r.lane)
            #expect(back.axleLoadsKg == r.axleLoadsKg && back.tyres == r.tyres && back.groups == r.groups)
            #expect(back.groupTypes == r.groupTypes && back.spacingsMm == r.spacingsMm && back.grossKg == r.grossKg)
            #expect(back.body == r.body && back.driveAxles == r.driveAxles && back.status == r.status)
            #expect(abs(back.speedKmh - r.speedKmh) <= p.fields[.speed]!.scale / 2 + 1e-9)
            #expect(back.decodeProblems.isEmpty)
            #expect(back.weighing(p).flags.map(\.rawValue) == r.flags(p).map(\.rawValue))
        }
    }

    @Test func theTwoProfilesReallyDiffer() throws {
        let g = try profile("generic-wim-v1"), a = try profile("acme-x2")
        let r = traffic(1)[0]
        #expect(g.encode(r) != a.encode(r))
        #expect(g.wordOrder != a.wordOrder)
        #expect(g.fields[.axle_loads]!.scale != a.fields[.axle_loads]!.scale)
        #expect(g.statusBits["straddle"] != a.statusBits["straddle"])
    }

    @Test func statusBitsBecomeFlagsAndUnknownBitsInvalidateToo() throws {
        let p = try profile("generic-wim-v1")
        var r = traffic(1)[0]
        r.status = 1 << 1 | 1 << 12
        let w = p.decode(p.encode(r)).weighing(p)
        #expect(w.flags.map(\.rawValue) == ["accel", "status_bit_12"])
        #expect(Assessor(rules: AssessmentRules()).assess(w, plates: []).decision == .invalid)
    }

    @Test func implausibleRecordsDecodeToInvalidWeighingsWithReasons() throws {
        let p = try profile("acme-x2")  // signed 32-bit axle loads can be negative
        var r = traffic(1)[0]
        r.axleLoadsKg[1] = -150
        var w = p.decode(p.encode(r)).weighing(p)
        #expect(w.invalidityReasons().map(\.description).contains("negative_axle_load (axle 2: -150 kg)"))
        // Axle count says 2 but more slots carry load.
        r = traffic(20).first { $0.axleCount >= 4 }!
        var block = p.encode(r)
        block[p.fields[.axle_count]!.address - p.blockAddress] = 2
        w = p.decode(block).weighing(p)
        #expect(w.invalidityReasons().contains { $0.code == "axle_count_mismatch" })
        // Gross not the sum of the axles.
        r = traffic(1)[0]
        r.grossKg += 900
        w = p.decode(p.encode(r)).weighing(p)
        #expect(w.invalidityReasons().contains { $0.code == "gross_mismatch" })
        // Speed outside 0.5–100 km/h.
        r = traffic(1)[0]
        r.speedKmh = 130
        #expect(p.decode(p.encode(r)).weighing(p).invalidityReasons().contains { $0.code == "speed_out_of_range" })
        // A tyre code the map does not define.
        block = p.encode(traffic(1)[0])
        block[p.fields[.axle_tyres]!.address - p.blockAddress] = 99
        #expect(p.decode(block).weighing(p).invalidityReasons().contains { $0.description == "unknown_tyre_code (axle 1: 99)" })
    }

    @Test(arguments: [
        ("[profile\nname = 1", "x.toml:1: -: TOML syntax, column 9"),
        ("", "x.toml:-: profile: missing table"),
    ])
    func syntaxAndStructureErrorsNameWhere(text: String, says: String) {
        #expect(throws: WIMProfileError.self) { try WIMProfile.parse(text, source: "x.toml") }
        do { _ = try WIMProfile.parse(text, source: "x.toml") } catch { #expect(error.description.contains(says), "\(error)") }
    }

    @Test(arguments: [
        ("speed = { address = 107, type = \"u16\", scale = 0.01, unit = \"km/h\" }", "speed = { address = 300 }", "generic.toml:38: record.speed: registers 300–300 lie outside the record block 100–179"),
        ("speed = { address = 107, type = \"u16\", scale = 0.01, unit = \"km/h\" }", "speed = { address = 108 }", "generic.toml:39: record.axle_count: overlaps record.speed at register 108"),
        ("speed = { address = 107, type = \"u16\", scale = 0.01, unit = \"km/h\" }", "speed = { address = 107, type = \"f32\" }", "generic.toml:38: record.speed.type: 'f32' is not one of u16, s16, u32, s32"),
        ("word_order = \"high_first\"", "word_order = \"middle\"", "generic.toml:11: profile.word_order: 'middle' is not one of"),
        ("spacings = { address = 168, type = \"u16\", count = 11, scale = 10, unit = \"mm\" }", "spacings = { address = 168, count = 5 }", "generic.toml:51: record.spacings.count: 5, expected 11"),
        ("kind = \"counter\"", "kind = \"semaphore\"", "generic.toml:19: handshake.kind: 'semaphore' is not one of"),
        ("accel = 1", "accel = 0", "generic.toml:55: status_bits: two flags share a bit"),
        ("rigid = 0", "", "generic.toml:65: codes.body.rigid: missing"),
    ])
    func badProfilesAreRefusedNamingTheKey(original: String, replacement: String, says: String) throws {
        let text = try String(contentsOf: hardware.appendingPathComponent("generic-wim-v1.toml"), encoding: .utf8)
        #expect(text.contains(original))
        do {
            _ = try WIMProfile.parse(text.replacingOccurrences(of: original, with: replacement), source: "generic.toml")
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasPrefix("generic.toml:"))
            #expect(error.description.contains(says), "\(error)")
        }
    }

    /// One pass names everything wrong, each at its line; a misspelt key is not ignored.
    @Test func everyProblemIsListedAndUnknownKeysAreRefused() throws {
        var text = try String(contentsOf: hardware.appendingPathComponent("generic-wim-v1.toml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "unit_id = 1\n", with: "unit_id = 300\n")
            .replacingOccurrences(of: "lane = { address = 105, type = \"u16\" }", with: "lane = { adress = 105, type = \"u16\" }")
            .replacingOccurrences(of: "fault_count = 9", with: "fault_count = 9\nfault_kind = 1")
        do {
            _ = try WIMProfile.parse(text, source: "g.toml")
            Issue.record("accepted")
        } catch {
            let lines = error.problems.map(\.description)
            #expect(lines.contains("g.toml:12: profile.unit_id: 300 is outside 0…247"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("g.toml:30: simulator.fault_kind: unknown key") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("g.toml:37: record.lane.adress: unknown key") }, "\(lines)")
            #expect(lines.contains("g.toml:37: record.lane.address: missing"), "\(lines)")
            #expect(error.problems.map { $0.line ?? 0 } == error.problems.map { $0.line ?? 0 }.sorted(), "in line order")
        }
    }

    /// The physical bounds come from the profile, and no profile can set them so low that an
    /// overloaded vehicle would be taken for a controller fault.
    @Test func plausibilityBoundsAreTheProfilesAndNeverBelowOverloads() throws {
        let text = try String(contentsOf: hardware.appendingPathComponent("generic-wim-v1.toml"), encoding: .utf8)
        let p = try WIMProfile.parse(text.replacingOccurrences(of: "max_axle_kg = 60000", with: "max_axle_kg = 45000"), source: "g.toml")
        #expect(p.bounds.maxAxleKg == 45_000 && p.bounds.maxGrossKg == 300_000 && p.bounds.axleSpacingMm == 500...20_000)
        var w = p.decode(p.encode(traffic(1)[0])).weighing(p)
        #expect(p.bounds.problems(of: w).isEmpty)
        w.axles[0].kg = 46_000
        #expect(p.bounds.problems(of: w).map(\.code) == ["implausible_axle_load"])
        do {
            _ = try WIMProfile.parse(text.replacingOccurrences(of: "max_axle_kg = 60000", with: "max_axle_kg = 18000"), source: "g.toml")
            Issue.record("a bound below the legal axle limit was accepted")
        } catch {
            #expect(error.problems.map(\.description).contains { $0.hasSuffix("plausibility.max_axle_kg: 18000 is outside 30000…200000") }, "\(error.problems)")
        }
    }

    @Test func unknownProfileNameListsWhereItLooked() {
        do {
            _ = try WIMProfile.load("no-such-controller")
            Issue.record("loaded")
        } catch {
            #expect(error.description.contains("no profile named 'no-such-controller'"))
        }
    }
}
