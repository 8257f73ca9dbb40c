#include "zkclient/witness.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <new>
#include <type_traits>
#include <utility>

#include "calcwit.hpp"
#include "circom.hpp"
#include "circom_runtime.hpp"
#include "fr.hpp"

namespace zkclient {

// The .dat contents in the structures the generated code reads, plus the
// storage they point into.
struct CreditWitnessGenerator::Circuit {
    Circom_Circuit circom{};
    std::vector<HashSignalInfo> input_hash_map;
    std::vector<u64> witness_to_signal;
    std::vector<FrElement> constants;
    std::vector<std::vector<IOFieldDef>> io_defs;
    std::vector<std::vector<u32>> io_lengths;
    std::vector<IOFieldDefPair> bus_field_map;
};

namespace {

// The .dat layout written by circom 2.2 (see its generated main.cpp):
// input hash map, witness-to-signal list, constants, then the io map (an
// index of template ids and, per template, its field definitions) and the
// bus field map in the same encoding.
class DatReader {
public:
    DatReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    bool read(void* out, size_t n) {
        if (n > size_ - pos_) {
            return false;
        }
        if (n == 0) {
            return true;  // out may be the null data() of an empty vector
        }
        std::memcpy(out, data_ + pos_, n);
        pos_ += n;
        return true;
    }
    bool read_u32(u32& out) { return read(&out, sizeof out); }
    size_t remaining() const { return size_ - pos_; }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

// One template's (or bus's) field definitions.
bool read_field_defs(DatReader& in, std::vector<IOFieldDef>& defs,
                     std::vector<std::vector<u32>>& lengths_store) {
    u32 n = 0;
    if (!in.read_u32(n) || n > in.remaining() / 16) {
        return false;
    }
    defs.resize(n);
    for (u32 j = 0; j < n; ++j) {
        u32 len = 0;
        if (!in.read_u32(defs[j].offset) || !in.read_u32(len) || len > in.remaining() / 4) {
            return false;
        }
        lengths_store.emplace_back(len);
        if (!in.read(lengths_store.back().data(), size_t{len} * 4) ||
            !in.read_u32(defs[j].size) || !in.read_u32(defs[j].busId)) {
            return false;
        }
        defs[j].len = len;
        defs[j].lengths = lengths_store.back().data();
    }
    return true;
}

Status parse_dat(const std::vector<uint8_t>& bytes, CreditWitnessGenerator::Circuit& c) {
    DatReader in(bytes.data(), bytes.size());
    c.input_hash_map.resize(get_size_of_input_hashmap());
    c.witness_to_signal.resize(get_size_of_witness());
    c.constants.resize(get_size_of_constants());
    if (!in.read(c.input_hash_map.data(), c.input_hash_map.size() * sizeof(HashSignalInfo)) ||
        !in.read(c.witness_to_signal.data(), c.witness_to_signal.size() * sizeof(u64)) ||
        !in.read(c.constants.data(), c.constants.size() * sizeof(FrElement))) {
        return Status::bad_length;
    }
    for (u64 signal : c.witness_to_signal) {
        if (signal >= get_total_signal_no()) {
            return Status::bad_encoding;
        }
    }
    u64 inputs_begin = get_main_input_signal_start();
    u64 inputs_end = inputs_begin + get_main_input_signal_no();
    for (const HashSignalInfo& h : c.input_hash_map) {
        if (h.signalid != 0 && (h.signalid < inputs_begin || h.signalsize > inputs_end ||
                                h.signalid > inputs_end - h.signalsize)) {
            return Status::bad_encoding;
        }
    }
    std::map<u32, IOFieldDefPair> io_map;
    if (get_size_of_io_map() > 0) {
        std::vector<u32> template_ids(get_size_of_io_map());
        if (!in.read(template_ids.data(), template_ids.size() * sizeof(u32))) {
            return Status::bad_length;
        }
        c.io_defs.resize(template_ids.size() + get_size_of_bus_field_map());
        for (size_t i = 0; i < template_ids.size(); ++i) {
            if (!read_field_defs(in, c.io_defs[i], c.io_lengths)) {
                return Status::bad_length;
            }
            io_map[template_ids[i]] =
                IOFieldDefPair{static_cast<u32>(c.io_defs[i].size()), c.io_defs[i].data()};
        }
        c.bus_field_map.resize(get_size_of_bus_field_map());
        for (size_t i = 0; i < c.bus_field_map.size(); ++i) {
            std::vector<IOFieldDef>& defs = c.io_defs[template_ids.size() + i];
            if (!read_field_defs(in, defs, c.io_lengths)) {
                return Status::bad_length;
            }
            c.bus_field_map[i] = IOFieldDefPair{static_cast<u32>(defs.size()), defs.data()};
        }
    }
    if (in.remaining() != 0) {
        return Status::bad_length;
    }
    c.circom.InputHashMap = c.input_hash_map.data();
    c.circom.witness2SignalList = c.witness_to_signal.data();
    c.circom.circuitConstants = c.constants.data();
    c.circom.templateInsId2IOSignalInfo = std::move(io_map);
    c.circom.busInsId2FieldInfo = c.bus_field_map.empty() ? nullptr : c.bus_field_map.data();
    return Status::ok;
}

const HashSignalInfo* find_input(const CreditWitnessGenerator::Circuit& c, u64 hash) {
    for (const HashSignalInfo& h : c.input_hash_map) {
        if (h.signalid != 0 && h.hash == hash) {
            return &h;
        }
    }
    return nullptr;
}

// Montgomery forms agree: circom's Fr and libverify's Fr both use R = 2^256.
FrElement to_circom(const Fr& v) {
    FrElement e{};
    e.type = Fr_LONGMONTGOMERY;
    std::memcpy(e.longVal, v.mont_limbs().data(), sizeof e.longVal);
    return e;
}

bool from_circom(FrElement e, Fr& out) {
    Fr_toLongNormal(&e, &e);
    libverify::Limbs limbs;
    std::memcpy(limbs.data(), e.longVal, sizeof e.longVal);
    bool ok = Fr::from_canonical(limbs, out);
    sodium_memzero(&e, sizeof e);
    return ok;
}

Status parse_number(const nlohmann::json& v, Fr& out) {
    libverify::Limbs acc{};
    if (v.is_number_unsigned()) {
        acc[0] = v.get<uint64_t>();
        return Fr::from_canonical(acc, out) ? Status::ok : Status::input_out_of_range;
    }
    if (!v.is_string()) {
        return Status::bad_encoding;
    }
    const std::string& s = v.get_ref<const std::string&>();
    uint64_t base = 10;
    size_t i = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == s.size()) {
        return Status::bad_encoding;
    }
    bool overflow = false;
    for (; i < s.size(); ++i) {
        char ch = s[i];
        uint64_t digit;
        if (ch >= '0' && ch <= '9') {
            digit = static_cast<uint64_t>(ch - '0');
        } else if (base == 16 && ch >= 'a' && ch <= 'f') {
            digit = static_cast<uint64_t>(ch - 'a' + 10);
        } else if (base == 16 && ch >= 'A' && ch <= 'F') {
            digit = static_cast<uint64_t>(ch - 'A' + 10);
        } else {
            return Status::bad_encoding;
        }
        unsigned __int128 carry = digit;
        for (uint64_t& limb : acc) {
            unsigned __int128 t = static_cast<unsigned __int128>(limb) * base + carry;
            limb = static_cast<uint64_t>(t);
            carry = t >> 64;
        }
        overflow |= carry != 0;
    }
    if (overflow || !Fr::from_canonical(acc, out)) {
        return Status::input_out_of_range;
    }
    return Status::ok;
}

// Flattens nested arrays row-major.
Status flatten(const nlohmann::json& v, std::vector<Fr>& out, int depth) {
    if (depth > 8) {
        return Status::bad_encoding;
    }
    if (v.is_array()) {
        for (const nlohmann::json& e : v) {
            Status st = flatten(e, out, depth + 1);
            if (st != Status::ok) {
                return st;
            }
        }
        return Status::ok;
    }
    Fr value;
    Status st = parse_number(v, value);
    if (st == Status::ok) {
        out.push_back(value);
    }
    return st;
}

}  // namespace

Status circuit_input_from_json(std::string_view json, CircuitInput& out) noexcept {
    try {
        nlohmann::json doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
        if (doc.is_discarded() || !doc.is_object()) {
            return Status::bad_encoding;
        }
        CircuitInput parsed;
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            SignalInput signal{it.key(), {}};
            Status st = flatten(it.value(), signal.values, 0);
            if (st != Status::ok) {
                wipe(signal.values);
                wipe(parsed);
                return st;
            }
            parsed.push_back(std::move(signal));
        }
        out = std::move(parsed);
        return Status::ok;
    } catch (...) {
        return Status::internal_error;
    }
}

void wipe(std::vector<Fr>& values) noexcept {
    if (!values.empty()) {
        sodium_memzero(values.data(), values.size() * sizeof(Fr));
    }
}

void wipe(CircuitInput& input) noexcept {
    for (SignalInput& signal : input) {
        wipe(signal.values);
    }
}

namespace {

// The credit circuit's input signals in its order, with where CreditInput
// keeps each (const or not, after `In`).
template <class Value>
struct CreditField {
    const char* name;
    Value* values;
    size_t count;
};

template <class In>
auto credit_fields(In& in) {
    using Value = std::conditional_t<std::is_const_v<In>, const Fr, Fr>;
    auto one = [](const char* name, Value& v) { return CreditField<Value>{name, &v, 1}; };
    auto path = [](const char* name, auto& a) {
        return CreditField<Value>{name, a.data(), kCreditTreeDepth};
    };
    return std::array<CreditField<Value>, 23>{
        one("root", in.root),
        one("scope", in.scope),
        one("c_max", in.c_max),
        one("key_hash", in.key_hash),
        one("x", in.x),
        one("nullifier", in.nullifier),
        one("signal_y", in.signal_y),
        one("c_new", in.c_new),
        one("k", in.k),
        one("deposit", in.deposit),
        path("path_elements", in.path_elements),
        path("path_indices", in.path_indices),
        one("ticket", in.ticket),
        one("genesis", in.genesis),
        one("refund_total_prev", in.refund_total_prev),
        one("salt_prev", in.salt_prev),
        one("refund", in.refund),
        one("voucher_r8x", in.voucher_r8x),
        one("voucher_r8y", in.voucher_r8y),
        one("voucher_s", in.voucher_s),
        one("key_ax", in.key_ax),
        one("key_ay", in.key_ay),
        one("salt_new", in.salt_new),
    };
}

}  // namespace

CircuitInput CreditInput::to_circuit_input() const {
    CircuitInput out;
    for (const auto& field : credit_fields(*this)) {
        out.push_back(SignalInput{field.name, {field.values, field.values + field.count}});
    }
    return out;
}

Status CreditInput::from_circuit_input(const CircuitInput& input, CreditInput& out) noexcept {
    CreditInput in;
    auto fields = credit_fields(in);
    std::array<bool, fields.size()> seen{};
    Status st = Status::ok;
    for (const SignalInput& signal : input) {
        size_t i = 0;
        while (i < fields.size() && signal.name != fields[i].name) ++i;
        if (i == fields.size() || seen[i]) {
            st = Status::bad_encoding;
            break;
        }
        if (signal.values.size() != fields[i].count) {
            st = Status::bad_length;
            break;
        }
        seen[i] = true;
        std::copy(signal.values.begin(), signal.values.end(), fields[i].values);
    }
    for (bool s : seen) {
        if (st == Status::ok && !s) st = Status::bad_length;
    }
    if (st == Status::ok) out = in;
    in.wipe();
    return st;
}

void CreditInput::wipe() noexcept { sodium_memzero(this, sizeof *this); }

CreditWitnessGenerator::CreditWitnessGenerator() noexcept = default;
CreditWitnessGenerator::~CreditWitnessGenerator() = default;
CreditWitnessGenerator::CreditWitnessGenerator(CreditWitnessGenerator&&) noexcept = default;
CreditWitnessGenerator& CreditWitnessGenerator::operator=(CreditWitnessGenerator&&) noexcept =
    default;

Status CreditWitnessGenerator::load(const std::string& dat_path,
                                    CreditWitnessGenerator& out) noexcept {
    try {
        std::ifstream file(dat_path, std::ios::binary);
        if (!file) {
            return Status::io_error;
        }
        // The expected size is known from the linked code; anything much
        // larger is not this circuit's .dat, so reading stops early.
        constexpr size_t kMaxDatSize = size_t{64} << 20;
        std::vector<uint8_t> bytes;
        char chunk[1 << 16];
        while (file) {
            file.read(chunk, sizeof chunk);
            bytes.insert(bytes.end(), chunk, chunk + file.gcount());
            if (bytes.size() > kMaxDatSize) {
                return Status::bad_length;
            }
        }
        if (file.bad()) {
            return Status::io_error;
        }
        auto circuit = std::make_unique<Circuit>();
        Status st = parse_dat(bytes, *circuit);
        if (st != Status::ok) {
            return st;
        }
        out.circuit_ = std::move(circuit);
        return Status::ok;
    } catch (...) {
        return Status::internal_error;
    }
}

size_t CreditWitnessGenerator::witness_size() const noexcept { return get_size_of_witness(); }

Status CreditWitnessGenerator::compute(const CircuitInput& input,
                                       std::vector<Fr>& witness) const noexcept {
    if (!circuit_) {
        return Status::internal_error;
    }
    try {
        // Check the whole input before the generated code sees any of it.
        std::vector<std::pair<u64, const SignalInput*>> resolved;
        size_t total = 0;
        for (const SignalInput& signal : input) {
            u64 hash = fnv1a(signal.name);
            const HashSignalInfo* info = find_input(*circuit_, hash);
            if (info == nullptr) {
                return Status::bad_encoding;
            }
            for (const auto& seen : resolved) {
                if (seen.first == hash) {
                    return Status::bad_encoding;
                }
            }
            if (signal.values.size() != info->signalsize) {
                return Status::bad_length;
            }
            total += signal.values.size();
            resolved.emplace_back(hash, &signal);
        }
        if (total != get_main_input_signal_no()) {
            return Status::bad_length;
        }

        circom_runtime::reset_assert_failures();
        Circom_CalcWit ctx(&circuit_->circom);
        for (const auto& [hash, signal] : resolved) {
            for (size_t i = 0; i < signal->values.size(); ++i) {
                FrElement e = to_circom(signal->values[i]);
                ctx.setInputSignal(hash, static_cast<uint>(i), e);
                sodium_memzero(&e, sizeof e);
            }
        }
        if (ctx.getRemaingInputsToBeSet() != 0) {
            return Status::internal_error;
        }
        if (circom_runtime::assert_failed()) {
            return Status::unsatisfied_constraint;
        }
        std::vector<Fr> values(get_size_of_witness());
        for (size_t i = 0; i < values.size(); ++i) {
            if (!from_circom(ctx.signalValues[circuit_->witness_to_signal[i]], values[i])) {
                wipe(values);
                return Status::internal_error;
            }
        }
        wipe(witness);
        witness = std::move(values);
        return Status::ok;
    } catch (...) {
        return Status::internal_error;
    }
}

Status CreditWitnessGenerator::compute(const CreditInput& input,
                                       std::vector<Fr>& witness) const noexcept {
    try {
        CircuitInput signals = input.to_circuit_input();
        Status st = compute(signals, witness);
        wipe(signals);
        return st;
    } catch (...) {
        return Status::internal_error;
    }
}

}  // namespace zkclient
