import Testing
@testable import WeighpointCore

@Suite struct PlateGrammarTests {
    @Test(arguments: [
        ("苏A12345", Plate.Kind.standard),
        ("京AB1C23", .standard),
        ("苏E1234挂", .trailer),
        ("粤B1234学", .coach),
        ("京A0001警", .police),
        ("粤O1234警", .police),
        ("沪A1234领", .consulate),
        ("使014578", .embassy),
        ("粤Z1234港", .hongKongMacau),
        ("粤Z1A34澳", .hongKongMacau),
        ("粤BD12345", .newEnergySmall),
        ("粤BFA1234", .newEnergySmall),
        ("粤B12345D", .newEnergyLarge),
        ("苏A12345F", .newEnergyLarge),
    ])
    func recognisesEachLayout(text: String, kind: Plate.Kind) throws {
        let plate = try Plate(parsing: text)
        #expect(plate.kind == kind)
        #expect(plate.text == text)
    }

    @Test func everyProvinceIsAccepted() throws {
        #expect(Plate.provinces.count == 31)
        for p in Plate.provinces {
            #expect(try Plate(parsing: "\(p)A12345").kind == .standard)
        }
    }

    @Test(arguments: [
        ("", "empty"),
        ("苏A1234", "has 6 characters"),
        ("苏A1234567", "has 9 characters"),
        ("X A12345", "character 1 is 'X'"),
        ("苏I12345", "character 2 is 'I'"),
        ("苏O12345", "O only on police plates"),
        ("苏A12#45", "character 5 is '#'"),
        ("苏Z1234港", "粤Z before 港/澳"),
        ("使01457A", "character 7 is 'A'"),
        ("粤BDA2B45", "character 6 is 'B'"),
        ("粤B1234AD", "character 7 is 'A'"),
        ("粤B123456", "D or F"),
    ])
    func rejectsMalformedTextWithATypedError(text: String, says: String) {
        do {
            _ = try Plate(parsing: text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.description.contains(says), "\(error.description)")
        }
    }

    @Test func typicalColoursFollowTheLayout() throws {
        #expect(try Plate(parsing: "粤BD12345").kind.colors == [.green])
        #expect(try Plate(parsing: "粤B12345D").kind.colors == [.yellowGreen])
        #expect(try Plate(parsing: "苏E1234挂").kind.colors == [.yellow])
        #expect(try Plate(parsing: "京A0001警").kind.colors == [.white])
        #expect(try Plate(parsing: "使014578").kind.colors == [.black])
    }

    @Test func trailerPlatesAreRecognised() throws {
        #expect(try Plate(parsing: "苏E1234挂").isTrailer)
        #expect(try !Plate(parsing: "苏E12345").isTrailer)
    }
}

@Suite struct PlateNormalisationTests {
    @Test(arguments: [
        ("苏a12345", "苏A12345"),
        ("苏Ａ１２３４５", "苏A12345"),
        ("苏A·12345", "苏A12345"),
        ("苏A•12345", "苏A12345"),
        ("苏A-123 45", "苏A12345"),
        ("苏A 1O0I5", "苏A10015"),
        ("粤O1234警", "粤O1234警"),
        ("使O14578", "使014578"),
        ("苏ｅ・ｌo２３４", "苏EL0234"),
        ("", ""),
    ])
    func normalises(raw: String, expected: String) {
        #expect(Plate.normalize(raw) == expected)
    }

    @Test func parsingNormalisesFirst() throws {
        #expect(try Plate(parsing: "苏Ａ·1234O").text == "苏A12340")
    }
}

@Suite struct PlateColorCodeTests {
    @Test func oneBasedTable() {
        let expected: [(PlateColor, Int)] = [(.blue, 1), (.yellow, 2), (.black, 3), (.white, 4), (.green, 5), (.yellowGreen, 5), (.red, 9), (.unknown, 9)]
        for (c, code) in expected { #expect(c.code(in: .oneBased) == code, "\(c)") }
        #expect(PlateColor(code: 5, in: .oneBased) == .green)
        #expect(PlateColor(code: 9, in: .oneBased) == .unknown)
        #expect(PlateColor(code: 0, in: .oneBased) == nil)
        #expect(PlateColor(code: 6, in: .oneBased) == nil)
    }

    @Test func zeroBasedTable() {
        let expected: [(PlateColor, Int)] = [(.blue, 0), (.yellow, 1), (.black, 2), (.white, 3), (.green, 4), (.yellowGreen, 5), (.blueWhite, 6), (.unknown, 9), (.red, 12)]
        for (c, code) in expected {
            #expect(c.code(in: .zeroBased) == code, "\(c)")
            #expect(PlateColor(code: code, in: .zeroBased) == c)
        }
        #expect(PlateColor(code: 11, in: .zeroBased) == .green)
        #expect(PlateColor(code: 7, in: .zeroBased) == nil)
    }

    @Test func everyColourHasACodeInBothTablesThatDecodesToAColour() {
        for c in PlateColor.allCases {
            for table in [PlateColor.CodeTable.oneBased, .zeroBased] {
                #expect(PlateColor(code: c.code(in: table), in: table) != nil)
            }
        }
    }
}
