#include "cli/experiment_table.h"

#include <cmath>
#include <stdexcept>

namespace autonic::cli {

size_t ExpTable::col(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  throw std::logic_error("experiment table has no column " + name);
}

std::optional<double> ExpTable::value(size_t row, const std::string& column) const {
  const std::string& c = rows.at(row).at(col(column));
  if (c.empty()) return std::nullopt;
  return std::stod(c);
}

double ExpTable::at(const std::string& k0, const std::string& k1, const std::string& column) const {
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i][0] == k0 && rows[i][1] == k1)
      if (auto v = value(i, column)) return *v;
  return std::nan("");
}

namespace {
// RFC 4180: a field with a comma, quote or newline is quoted, quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    q.push_back(ch);
    if (ch == '"') q.push_back('"');
  }
  q.push_back('"');
  return q;
}
}  // namespace

std::string ExpTable::csv() const {
  std::string o;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) o.push_back(',');
      o.append(csv_field(cells[i]));
    }
    o.push_back('\n');
  };
  line(columns);
  for (const auto& r : rows) line(r);
  return o;
}

std::string ExpTable::markdown() const {
  std::string o = "|";
  auto cell = [&](const std::string& c, bool code) {
    o.append(code ? " `" : " ");
    o.append(c);
    o.append(code ? "` |" : " |");
  };
  for (const auto& c : columns) cell(c, false);
  o.append("\n|");
  for (size_t i = 0; i < columns.size(); ++i) o.append("---|");
  o.append("\n");
  for (const auto& r : rows) {
    o.append("|");
    for (const auto& c : r) cell(c, c.rfind("autonic run ", 0) == 0);  // commands as code
    o.append("\n");
  }
  return o;
}

nlohmann::json ExpTable::json() const {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json o;
    for (size_t i = 0; i < columns.size(); ++i) {
      const std::string& c = r[i];
      char* end = nullptr;
      const double d = c.empty() ? 0 : std::strtod(c.c_str(), &end);
      if (c.empty()) o[columns[i]] = nullptr;
      else if (end && *end == '\0') o[columns[i]] = d;
      else o[columns[i]] = c;
    }
    a.push_back(o);
  }
  return a;
}

}  // namespace autonic::cli
