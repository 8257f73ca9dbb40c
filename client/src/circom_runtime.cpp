#include "circom_runtime.hpp"

#include <sodium.h>

#include <ostream>
#include <streambuf>
#include <string>

#include "calcwit.hpp"
#include "circom.hpp"
#include "circom_hooks.hpp"

namespace {

thread_local bool assert_failed_on_thread = false;

// Swallows the generated code's diagnostic text.
class DiscardBuffer : public std::streambuf {
protected:
    int_type overflow(int_type c) override { return traits_type::not_eof(c); }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

std::ostream& zkc_circom_assert_failed() {
    thread_local DiscardBuffer buffer;
    thread_local std::ostream sink(&buffer);
    assert_failed_on_thread = true;
    return sink;
}

namespace zkclient::circom_runtime {

void reset_assert_failures() { assert_failed_on_thread = false; }
bool assert_failed() { return assert_failed_on_thread; }

}  // namespace zkclient::circom_runtime

u64 fnv1a(std::string s) {
    u64 hash = 0xCBF29CE484222325ULL;
    for (char c : s) {
        hash ^= static_cast<u64>(static_cast<unsigned char>(c));
        hash *= 0x100000001B3ULL;
    }
    return hash;
}

Circom_CalcWit::Circom_CalcWit(Circom_Circuit* aCircuit, uint numTh)
    : inputSignalAssigned(nullptr),
      inputSignalAssignedCounter(get_main_input_signal_no()),
      circuit(aCircuit),
      signalValues(nullptr),
      componentMemory(nullptr),
      circuitConstants(aCircuit->circuitConstants),
      templateInsId2IOSignalInfo(aCircuit->templateInsId2IOSignalInfo),
      busInsId2FieldInfo(aCircuit->busInsId2FieldInfo),
      listOfTemplateMessages(nullptr),
      numThread(0),
      maxThread(static_cast<int>(numTh)) {
    inputSignalAssigned = new bool[inputSignalAssignedCounter]();
    signalValues = new FrElement[get_total_signal_no()]();
    // Signal 0 is the constant one.
    signalValues[0].shortVal = 1;
    signalValues[0].type = Fr_SHORT;
    componentMemory = new Circom_Component[get_number_of_components()];
}

Circom_CalcWit::~Circom_CalcWit() {
    for (uint i = 0; i < get_number_of_components(); ++i) {
        Circom_Component& c = componentMemory[i];
        delete[] c.subcomponents;
        delete[] c.subcomponentsParallel;
        delete[] c.outputIsSet;
        delete[] c.mutexes;
        delete[] c.cvs;
        delete[] c.sbct;
    }
    delete[] componentMemory;
    // Signal values include the user's secrets.
    sodium_memzero(signalValues, sizeof(FrElement) * get_total_signal_no());
    delete[] signalValues;
    delete[] inputSignalAssigned;
}

// Returns the input hash map size when h names no main input.
uint Circom_CalcWit::getInputSignalHashPosition(u64 h) {
    uint n = get_size_of_input_hashmap();
    uint start = static_cast<uint>(h % n);
    for (uint step = 0; step < n; ++step) {
        uint pos = (start + step) % n;
        if (circuit->InputHashMap[pos].hash == h) {
            return pos;
        }
        if (circuit->InputHashMap[pos].signalid == 0) {
            return n;
        }
    }
    return n;
}

u64 Circom_CalcWit::getInputSignalSize(u64 h) {
    uint pos = getInputSignalHashPosition(h);
    return pos == get_size_of_input_hashmap() ? 0 : circuit->InputHashMap[pos].signalsize;
}

// The caller (client/src/witness.cpp) has checked the name, the index and
// that no signal is set twice; these checks only keep memory safe.
void Circom_CalcWit::setInputSignal(u64 h, uint i, FrElement& val) {
    uint pos = getInputSignalHashPosition(h);
    if (pos == get_size_of_input_hashmap() || i >= circuit->InputHashMap[pos].signalsize ||
        inputSignalAssignedCounter == 0) {
        return;
    }
    u64 si = circuit->InputHashMap[pos].signalid + i;
    u64 slot = si - get_main_input_signal_start();
    if (si < get_main_input_signal_start() || slot >= get_main_input_signal_no() ||
        inputSignalAssigned[slot]) {
        return;
    }
    signalValues[si] = val;
    inputSignalAssigned[slot] = true;
    --inputSignalAssignedCounter;
    tryRunCircuit();
}

extern void run(Circom_CalcWit* ctx);

void Circom_CalcWit::tryRunCircuit() {
    if (inputSignalAssignedCounter == 0) {
        run(this);
    }
}

std::string Circom_CalcWit::getTrace(u64 id_cmp) {
    std::string trace = componentMemory[id_cmp].componentName;
    while (id_cmp != 0) {
        id_cmp = componentMemory[id_cmp].idFather;
        trace = componentMemory[id_cmp].componentName + "." + trace;
    }
    return trace;
}

std::string Circom_CalcWit::generate_position_array(uint* dimensions, uint size_dimensions,
                                                    uint index) {
    std::string positions;
    for (uint i = 0; i < size_dimensions; ++i) {
        uint dim = dimensions[size_dimensions - 1 - i];
        positions = "[" + std::to_string(index % dim) + "]" + positions;
        index /= dim;
    }
    return positions;
}
