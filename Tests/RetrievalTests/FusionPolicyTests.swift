import Retrieval
import Testing

@Suite struct FusionPolicyTests {
    let english = FusionPolicy(denseModel: "sentence-transformers/all-MiniLM-L6-v2")
    let multilingual = FusionPolicy(denseModel: "intfloat/multilingual-e5-small")

    @Test func unaccentedVietnameseLeansOnTheKeywordArmWhateverTheModel() {
        for policy in [english, multilingual] {
            let s = policy.settings(for: "lam sao de xin nghi phep nam")
            #expect(s.rule == "keyword_led:vi_unaccented")
            #expect(s.keywordWeight > s.denseWeight)
        }
    }

    @Test func accentedVietnameseLeansOnTheArmThatReadsIt() {
        let english = english.settings(for: "làm sao để xin nghỉ phép năm")
        #expect(english.rule == "keyword_led:vi_english_model" && english.keywordWeight > english.denseWeight)
        let multilingual = multilingual.settings(for: "làm sao để xin nghỉ phép năm")
        #expect(multilingual.rule == "dense_led:vi_multilingual_model" && multilingual.denseWeight > multilingual.keywordWeight)
    }

    @Test func englishKeepsTheDeploymentsDefaults() {
        for policy in [english, multilingual] {
            #expect(policy.settings(for: "how many vacation days do I get per year") == policy.defaults)
            #expect(policy.settings(for: "VPN 2024") == policy.defaults)
        }
        let tuned = FusionPolicy(denseModel: "intfloat/multilingual-e5-small", k: 30, denseWeight: 0.7, keywordWeight: 1)
        #expect(tuned.settings(for: "reset my password").k == 30 && tuned.settings(for: "reset my password").denseWeight == 0.7)
    }
}
