import Foundation

/// Picks the UI strategy from the ranked scores, in this order (s1, s2: the two best final scores):
///
/// 1. `clarify`       s1 < clarify_below (nothing relevant)
/// 2. `execute`       s1 >= execute_at and s1 - s2 >= execute_margin (one clear winner)
/// 3. `disambiguate`  another candidate within disambiguate_margin of s1, at or above clarify_below
///                    (offers those candidates, at most max_choices)
/// 4. `confirm`       otherwise (a likely winner, ask for a yes)
///
/// The message comes from the settings' messages for the request's language, with `{action}`
/// replaced by the top action's title and `{actions}` by the choices' titles.
package struct UIDecision: Sendable, Hashable {
    package let thresholds: DecisionThresholds

    package init(thresholds: DecisionThresholds) { self.thresholds = thresholds }

    /// The strategy and the action ids it concerns, from scores sorted best first.
    package func decide(_ ranked: [(id: String, score: Double)]) -> (strategy: UIStrategy, choices: [String]) {
        let t = thresholds
        guard let first = ranked.first, first.score >= t.clarifyBelow else { return (.clarify, []) }
        let second = ranked.count > 1 ? ranked[1].score : 0
        if first.score >= t.executeAt && first.score - second >= t.executeMargin { return (.execute, [first.id]) }
        let close = ranked.prefix(t.maxChoices).filter {
            $0.score >= t.clarifyBelow && first.score - $0.score < t.disambiguateMargin
        }
        if close.count >= 2 { return (.disambiguate, close.map(\.id)) }
        return (.confirm, [first.id])
    }

    package static func message(_ strategy: UIStrategy, choices: [String], catalog: ActionCatalog,
                               messages: DecisionMessages, language: RequestLanguage) -> String {
        let titles = choices.map { catalog.action($0)?.title(in: language) ?? $0 }
        let template: String
        switch strategy {
        case .execute: template = messages.execute
        case .confirm: template = messages.confirm
        case .disambiguate: template = messages.disambiguate
        case .clarify: template = messages.clarify
        }
        let list: String
        switch titles.count {
        case 0: list = ""
        case 1: list = titles[0]
        default: list = titles.dropLast().joined(separator: ", ") + " \(messages.or) " + titles.last!
        }
        return template.replacingOccurrences(of: "{action}", with: titles.first ?? "")
            .replacingOccurrences(of: "{actions}", with: list)
    }
}
