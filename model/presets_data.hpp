#pragma once
// The catalog JSON files (model/presets/*.json), compiled in by CMake (presets_data.cpp.in).
namespace ppsim::model::presets {
extern const char* const kGpus;
extern const char* const kClusters;
extern const char* const kModels;
extern const char* const kValidation;  // model/validation/cases.json
}  // namespace ppsim::model::presets
