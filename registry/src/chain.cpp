#include "zkregistry/chain.hpp"

#include "zkchain/deposits.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "zkregistry/encoding.hpp"
#include "zkregistry/error.hpp"
#include "zkregistry/tree.hpp"

namespace zkregistry {

using libverify::Fr;
using nlohmann::json;

namespace {

[[noreturn]] void malformed(const std::string& what) {
    throw Error(ErrorKind::invalid_input, "malformed log from the node: " + what);
}

const std::string& text_field(const json& object, const char* name) {
    const auto it = object.find(name);
    if (it == object.end() || !it->is_string()) {
        malformed(std::string("no string \"") + name + "\"");
    }
    return it->get_ref<const std::string&>();
}

// A JSON-RPC quantity of at most 64 bits.
uint64_t quantity(std::string_view text, const std::string& what) {
    const std::optional<zkchain::Amount> value = zkchain::parse_quantity(text);
    if (!value || *value > UINT64_MAX) {
        malformed(what + " is not a quantity of at most 64 bits");
    }
    return static_cast<uint64_t>(*value);
}

// One 32-byte word of a log's data or topics, as a field element.
Fr field_word(std::string_view hex64, const std::string& what) {
    Fr value;
    if (!fr_from_hex(hex64, value)) {
        malformed(what + " is not a field element");
    }
    return value;
}

// A word holding an unsigned integer below 2^bits (bits a multiple of 8).
uint64_t integer_word(std::string_view hex64, unsigned bits, const std::string& what) {
    const std::optional<zkchain::Bytes> bytes = zkchain::from_hex("0x" + std::string(hex64));
    if (!bytes || bytes->size() != 32) {
        malformed(what + " is not a word");
    }
    zkchain::Word word;
    std::copy(bytes->begin(), bytes->end(), word.begin());
    try {
        return static_cast<uint64_t>(zkchain::word_integer(word, bits, what));
    } catch (const zkchain::ChainError&) {
        malformed(what + " is not an integer of " + std::to_string(bits) + " bits");
    }
}

std::vector<std::string_view> data_words(const std::string& data, size_t count) {
    if (data.size() != 2 + 64 * count || data.compare(0, 2, "0x") != 0) {
        malformed("data of " + std::to_string(data.size()) + " characters, expected " +
                  std::to_string(count) + " words");
    }
    std::vector<std::string_view> words;
    for (size_t i = 0; i < count; ++i) {
        words.push_back(std::string_view(data).substr(2 + 64 * i, 64));
    }
    return words;
}

// What the registry's log and revocation record name as the cause.
const char* cause_name(ChainEvent::Kind kind) {
    switch (kind) {
    case ChainEvent::Kind::withdrawal_requested:
        return "withdrawal";
    case ChainEvent::Kind::expired:
        return "expiry";
    default:
        return "slash";
    }
}

uint64_t& counter(FollowStep& step, ChainEvent::Kind kind) {
    switch (kind) {
    case ChainEvent::Kind::deposited:
        return step.deposits;
    case ChainEvent::Kind::withdrawal_requested:
        return step.withdrawals;
    case ChainEvent::Kind::expired:
        return step.expiries;
    default:
        return step.slashes;
    }
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

}  // namespace

std::vector<ChainEvent> decode_logs(const json& logs, const std::string& contract) {
    if (!logs.is_array()) {
        malformed("eth_getLogs did not answer an array");
    }
    std::vector<ChainEvent> events;
    for (const json& log : logs) {
        if (!log.is_object()) {
            malformed("a log is not an object");
        }
        if (lower(text_field(log, "address")) != contract) {
            malformed("a log of another address");
        }
        if (log.contains("removed") && log["removed"] != false) {
            malformed("a removed log");
        }
        const auto topics = log.find("topics");
        if (topics == log.end() || !topics->is_array() || topics->size() != 2 ||
            !(*topics)[0].is_string() || !(*topics)[1].is_string()) {
            malformed("topics are not [event, id]");
        }
        const std::string topic = lower((*topics)[0].get<std::string>());
        const std::string id_topic = lower((*topics)[1].get<std::string>());
        if (id_topic.size() != 66 || id_topic.compare(0, 2, "0x") != 0) {
            malformed("the id topic is not one word");
        }
        ChainEvent event;
        event.block = quantity(text_field(log, "blockNumber"), "blockNumber");
        event.log_index = quantity(text_field(log, "logIndex"), "logIndex");
        event.transaction = lower(text_field(log, "transactionHash"));
        event.id = field_word(std::string_view(id_topic).substr(2), "id");
        // The words are views into `data`, which must outlive them.
        const std::string data = lower(text_field(log, "data"));
        if (topic == kDepositedTopic) {
            // (uint32 leafIndex, uint64 credits, uint256 leaf, uint256 root, address payer)
            const auto words = data_words(data, 5);
            event.kind = ChainEvent::Kind::deposited;
            event.leaf_index = integer_word(words[0], 32, "leafIndex");
            event.credits = integer_word(words[1], 64, "credits");
            event.leaf = field_word(words[2], "leaf");
            event.root = field_word(words[3], "root");
        } else if (topic == kSlashedTopic) {
            // (uint32 leafIndex, uint256 k, uint256 root, address slasher, uint256 bounty,
            //  uint256 treasuryShare)
            const auto words = data_words(data, 6);
            event.kind = ChainEvent::Kind::slashed;
            event.leaf_index = integer_word(words[0], 32, "leafIndex");
            event.root = field_word(words[2], "root");
        } else if (topic == kWithdrawalRequestedTopic) {
            // (uint32 leafIndex, uint256 root, address recipient, uint32 tickets,
            //  uint64 refundTotal, uint256 nullifier, uint256 x, uint256 y, uint64 deadline)
            const auto words = data_words(data, 9);
            event.kind = ChainEvent::Kind::withdrawal_requested;
            event.leaf_index = integer_word(words[0], 32, "leafIndex");
            event.root = field_word(words[1], "root");
            event.nullifier = field_word(words[5], "nullifier");
            event.x = field_word(words[6], "x");
            event.y = field_word(words[7], "y");
            event.deadline = integer_word(words[8], 64, "deadline");
        } else if (topic == kDepositExpiredTopic) {
            // (uint32 leafIndex, uint256 root, uint256 providerAmount)
            const auto words = data_words(data, 3);
            event.kind = ChainEvent::Kind::expired;
            event.leaf_index = integer_word(words[0], 32, "leafIndex");
            event.root = field_word(words[1], "root");
        } else {
            continue;
        }
        events.push_back(std::move(event));
    }
    std::sort(events.begin(), events.end(), [](const ChainEvent& a, const ChainEvent& b) {
        return std::pair(a.block, a.log_index) < std::pair(b.block, b.log_index);
    });
    return events;
}

Follower::Follower(Registry& registry, zkchain::Node& node, FollowOptions options)
    : registry_(registry), node_(node), options_(std::move(options)) {
    options_.contract = lower(options_.contract);
    if (registry_.depth() != kDefaultDepth) {
        throw Error(ErrorKind::refused, "the contract's tree has depth " +
                                            std::to_string(kDefaultDepth) + ", the registry's " +
                                            std::to_string(registry_.depth()));
    }
    if (options_.batch_blocks == 0) {
        throw Error(ErrorKind::invalid_input, "the batch must be at least one block");
    }
}

std::vector<ChainEvent> contract_events(zkchain::Node& node, const std::string& contract,
                                        uint64_t from, uint64_t to, uint64_t batch_blocks) {
    std::vector<ChainEvent> events;
    for (uint64_t start = from; start <= to; start += batch_blocks) {
        const uint64_t end = std::min(to, start + batch_blocks - 1);
        const json filter = {
            {"address", contract},
            {"fromBlock", zkchain::to_quantity(start)},
            {"toBlock", zkchain::to_quantity(end)},
            {"topics", json::array({json::array({kDepositedTopic, kSlashedTopic,
                                                 kWithdrawalRequestedTopic,
                                                 kDepositExpiredTopic})})},
        };
        std::vector<ChainEvent> batch =
            decode_logs(node.call("eth_getLogs", json::array({filter})), contract);
        events.insert(events.end(), batch.begin(), batch.end());
    }
    return events;
}

std::vector<Registry::LeafRecord> replay_events(const std::vector<ChainEvent>& events) {
    std::vector<Registry::LeafRecord> records;
    std::vector<Fr> leaves;
    for (const ChainEvent& event : events) {
        if (event.kind == ChainEvent::Kind::deposited) {
            if (event.leaf_index != records.size()) {
                throw Error(ErrorKind::refused, "the contract's deposits skip a leaf");
            }
            records.push_back({event.id, event.leaf, std::string()});
            leaves.push_back(event.leaf);
        } else {
            if (event.leaf_index >= records.size() || records[event.leaf_index].id != event.id) {
                throw Error(ErrorKind::refused, "the contract clears a leaf it never had");
            }
            records[event.leaf_index].leaf = Fr::zero();
            records[event.leaf_index].revoked_by = event.transaction;
            leaves[event.leaf_index] = Fr::zero();
        }
    }
    if (!events.empty() && tree_root(leaves, kDefaultDepth) != events.back().root) {
        throw Error(ErrorKind::refused, "the contract's events give another root than its own");
    }
    return records;
}

std::optional<std::vector<Fr>> current_path(zkchain::Node& node, const zkchain::Address& contract,
                                            uint64_t from_block, uint64_t batch_blocks,
                                            uint64_t leaf_index) {
    const uint64_t head = node.block_number();
    const std::vector<ChainEvent> events =
        contract_events(node, contract.hex(), from_block, head, batch_blocks);
    const std::vector<Registry::LeafRecord> records = replay_events(events);
    const zkchain::Word root = zkchain::view_word(node, contract, "currentRoot()");
    if (events.empty() || zkchain::word_of(events.back().root) != root ||
        leaf_index >= records.size()) {
        return std::nullopt;
    }
    std::vector<Fr> leaves;
    leaves.reserve(records.size());
    for (const Registry::LeafRecord& record : records) {
        leaves.push_back(record.leaf);
    }
    const std::vector<std::vector<Fr>> levels = build_levels(leaves, kDefaultDepth);
    const std::vector<Fr> zeros = zero_hashes(kDefaultDepth);
    std::vector<Fr> siblings;
    for (unsigned h = 0; h < kDefaultDepth; ++h) {
        const uint64_t sibling = (leaf_index >> h) ^ 1;
        siblings.push_back(sibling < levels[h].size() ? levels[h][sibling] : zeros[h]);
    }
    return siblings;
}

std::vector<ChainEvent> Follower::logs(uint64_t from, uint64_t to) {
    return contract_events(node_, options_.contract, from, to, options_.batch_blocks);
}

FollowStep Follower::step() {
    FollowStep result;
    const uint64_t head = node_.block_number();
    if (head < options_.confirmations) {
        return result;
    }
    const uint64_t safe = head - options_.confirmations;
    uint64_t next = options_.from_block;
    if (const auto cursor = registry_.chain_cursor()) {
        const size_t space = cursor->find(' ');
        if (space == std::string::npos) {
            throw Error(ErrorKind::store, "the chain cursor is malformed");
        }
        const uint64_t reached = parse_u64(cursor->substr(0, space), "the chain cursor");
        if (node_.block_hash(reached) != cursor->substr(space + 1)) {
            return resync(safe);
        }
        next = reached + 1;
    }
    if (next > safe) {
        return result;
    }
    const uint64_t to = std::min(safe, next + options_.batch_blocks - 1);
    const std::optional<std::string> hash = node_.block_hash(to);
    const std::vector<ChainEvent> events = logs(next, to);
    if (!hash || node_.block_hash(to) != hash) {
        return result;  // the chain changed under the query: the next step starts over
    }
    for (const ChainEvent& event : events) {
        apply(event, result);
    }
    registry_.set_chain_cursor(std::to_string(to) + " " + *hash);
    result.reached = to;
    return result;
}

void Follower::apply(const ChainEvent& event, FollowStep& result) {
    const std::optional<Registry::IdentityState> known = registry_.identity(event.id);
    const std::string where = "the event in transaction " + event.transaction;
    if (event.kind == ChainEvent::Kind::deposited) {
        if (known) {
            if (known->index != event.leaf_index) {
                throw Error(ErrorKind::refused, where + " puts a registered id at another leaf");
            }
            ++result.already_applied;
            return;
        }
        if (hash_pair(event.id, Fr::from_u64(event.credits)) != event.leaf) {
            throw Error(ErrorKind::refused, where + " has a leaf other than H(id, credits)");
        }
        registry_.register_deposit(event.id, event.credits,
                                   ChainCheck{event.leaf_index, event.root});
        ++result.deposits;
        return;
    }
    if (!known || known->index != event.leaf_index) {
        throw Error(ErrorKind::refused, where + " clears a leaf the registry does not hold");
    }
    // The ticket is spent before the leaf goes, so that a pass cut short in
    // between still leaves it spent when it is met again.
    spend_withdrawal_ticket(event, result);
    if (known->revoked) {
        ++result.already_applied;
        return;
    }
    registry_.revoke_identity(event.id, {cause_name(event.kind), event.transaction},
                              ChainCheck{event.leaf_index, event.root});
    ++counter(result, event.kind);
}

void Follower::spend_withdrawal_ticket(const ChainEvent& event, FollowStep& result) {
    if (event.kind != ChainEvent::Kind::withdrawal_requested) {
        return;
    }
    const std::optional<std::pair<Fr, Fr>> earlier =
        registry_.spend_withdrawal_ticket(event.nullifier, event.x, event.y);
    if (earlier && registry_.append_double_spend(event.id, event.nullifier, *earlier,
                                                 {event.x, event.y})) {
        ++result.withdrawal_conflicts;
    }
}

FollowStep Follower::resync(uint64_t safe) {
    FollowStep result;
    result.reorg = true;
    const std::optional<std::string> hash = node_.block_hash(safe);
    const std::vector<ChainEvent> events = logs(options_.from_block, safe);
    if (!hash || node_.block_hash(safe) != hash) {
        return result;
    }
    const std::vector<Registry::LeafRecord> records = replay_events(events);
    for (const ChainEvent& event : events) {
        ++counter(result, event.kind);
        spend_withdrawal_ticket(event, result);
    }
    registry_.replace_tree(records, std::to_string(safe) + " " + *hash);
    result.reached = safe;
    return result;
}

}  // namespace zkregistry
