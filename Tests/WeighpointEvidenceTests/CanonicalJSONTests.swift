import Testing
@testable import WeighpointEvidence

@Suite struct CanonicalJSONTests {
    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (0.0543, "0.0543"), (100.0, "100"),
        (1e21, "1e+21"), (1e20, "100000000000000000000"), (123456789012345680000.0, "123456789012345680000"),
        (0.000001, "0.000001"), (1e-7, "1e-7"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (333333333.3333333, "333333333.3333333"), (0.1 + 0.2, "0.30000000000000004"), (4.5, "4.5"), (2e-7, "2e-7"),
    ])
    func numbersFollowECMAScript(value: Double, text: String) {
        #expect(ecmaScriptNumber(value) == text)
    }

    @Test func keysSortByUTF16AndNoWhitespace() {
        // RFC 8785 §3.2.3's example ordering: by UTF-16 code units, so U+1F600 (surrogates D83D…)
        // sorts before U+FB33 though its scalar value is larger.
        let v = JSONValue.object(["\u{FB33}": .int(1), "😀": .int(2), "a": .int(3), "A": .int(4), "\r": .int(5), "1": .int(6)])
        #expect(v.canonicalText == "{\"\\r\":5,\"1\":6,\"A\":4,\"a\":3,\"😀\":2,\"\u{FB33}\":1}")
    }

    @Test func stringsEscapeOnlyWhatTheyMust() {
        #expect(JSONValue.string("苏A12345 \"q\" \\ \u{1} \u{7F} \n").canonicalText == "\"苏A12345 \\\"q\\\" \\\\ \\u0001 \u{7F} \\n\"")
    }

    @Test func nestedStructures() {
        let v = JSONValue.object(["b": .array([.int(1), .null, .bool(true), .double(0.5)]), "a": .object(["z": .string("x"), "y": .int(-3)])])
        #expect(v.canonicalText == #"{"a":{"y":-3,"z":"x"},"b":[1,null,true,0.5]}"#)
    }

    @Test func parserRefusesDeepNestingInsteadOfOverflowingTheStack() {
        // The body that killed the daemon: 50 KB of "[" (the reader recursed once per level).
        #expect(parseJSON(Array(repeating: UInt8(ascii: "["), count: 50_000)) == nil)
        #expect(parseJSON(Array(String(repeating: "{\"a\":", count: 50_000).utf8)) == nil)
        let atLimit = String(repeating: "[", count: jsonMaxDepth) + String(repeating: "]", count: jsonMaxDepth)
        #expect(parseJSON(Array(atLimit.utf8)) != nil)
        let over = "[" + atLimit + "]"
        #expect(parseJSON(Array(over.utf8)) == nil)
        #expect(parseJSON(Array(#"{"a":[[1]]}"#.utf8), maxDepth: 2) == nil)
        #expect(parseJSON(Array(#"{"a":[1]}"#.utf8), maxDepth: 2)?["a"] == .array([.int(1)]))
    }

    @Test func parserRefusesDuplicateKeys() {
        // {"plate":"A","plate":"B"} would otherwise mean whichever the reader kept last.
        #expect(parseJSON(Array(#"{"plate":"苏A12345","plate":"苏B00000"}"#.utf8)) == nil)
        #expect(parseJSON(Array(#"{"a":{"x":1},"b":{"x":1}}"#.utf8)) != nil)
    }
}
