// An experiment's results: one row per run, the same cells written to the CSV, the report's
// markdown table and --json (so the report's tables equal the CSVs by construction, and a test
// checks they do).
#pragma once
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace autonic::cli {

struct ExpTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  static std::string num(double v, int decimals = 2) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return b;
  }
  size_t col(const std::string& name) const;
  // The numeric value of a cell (nullopt when empty).
  std::optional<double> value(size_t row, const std::string& column) const;
  // The value of `column` in the row whose first two cells read k0 and k1 (a point's keys: its
  // fault level or size, and its mode or depth); NaN if there is none or the cell is empty.
  double at(const std::string& k0, const std::string& k1, const std::string& column) const;
  std::string csv() const;
  std::string markdown() const;
  nlohmann::json json() const;  // [{column: value}], numbers as numbers
};

}  // namespace autonic::cli
