#include "store/sql/statements.h"

namespace leadgate::sql {

std::string values_groups(std::size_t rows, const std::vector<std::string_view>& types) {
  std::string out;
  int n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t k = 0; k < types.size(); ++k) {
      out += (k == 0 ? "$" : ", $") + std::to_string(++n);
      if (!types[k].empty()) out.append("::").append(types[k]);
    }
    out += ')';
  }
  return out;
}

std::string values_groups(std::size_t rows, int columns) {
  return values_groups(rows, std::vector<std::string_view>(static_cast<std::size_t>(columns)));
}

std::string shift_params(std::string_view sql, int offset) {
  std::string out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    out += sql[i];
    if (sql[i] != '$' || i + 1 >= sql.size() || sql[i + 1] < '0' || sql[i + 1] > '9') continue;
    std::size_t end = i + 1;
    int n = 0;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') n = n * 10 + (sql[end++] - '0');
    out += std::to_string(n + offset);
    i = end - 1;
  }
  return out;
}

std::string qualified(std::string_view alias, std::string_view columns) {
  std::string out;
  while (!columns.empty()) {
    const auto comma = columns.find(',');
    std::string_view name = columns.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out.append(alias).append(".").append(name);
    columns = comma == std::string_view::npos ? std::string_view() : columns.substr(comma + 1);
  }
  return out;
}

std::string select_leads_with_appointment(bool by_basic_id) {
  return "SELECT " + qualified("l", kLeadColumns) + ", " + qualified("a", kAppointmentColumns) +
         ", " + qualified("r", kRmColumns) +
         " FROM leads l LEFT JOIN appointments a ON a.environment = l.environment AND "
         "a.lead_ref = l.reference_id AND a.status = 'booked' LEFT JOIN rms r ON r.id = a.rm_id "
         "WHERE l.environment = $1 AND " +
         (by_basic_id ? std::string("l.basic_application_id = $2 AND l.erased_at = 0")
                      : std::string("l.mobile_bidx = $2 ORDER BY l.created_at DESC, l.id DESC"));
}

std::string update_lead(bool expected_status, bool expected_request_id) {
  std::string sql =
      "UPDATE leads SET environment = $1, reference_id = $2, basic_application_id = $3, "
      "application_id = $4, status = $5, first_name_enc = $6, last_name_enc = $7, "
      "mobile_enc = $8, email_enc = $9, pan_enc = $10, dob_enc = $11, mobile_bidx = $12, "
      "pan_bidx = $13, loan_type = $14, loan_amount_req = $15, loan_tenure = $16, "
      "credit_score = $17, pincode = $18, state = $19, gender = $20, "
      "application_assigned_to_rm = $21, remarks = $22, customer_id = $23, qr_short_code = $24, "
      "annual_income = $25, include_credit_score = $26, is_lead_prefilled = $27, los_error = $28, "
      "request_id = $29, user_agent = $30, created_at = $31, updated_at = $32, "
      "flash_details_enc = $33, completion_reference = $34, flashed_at = $35, "
      "warnings_json = $36 WHERE id = $37 AND erased_at = 0";
  int next = 38;
  if (expected_status) sql += " AND status = $" + std::to_string(next++);
  if (expected_request_id) sql += " AND request_id = $" + std::to_string(next++);
  return sql;
}

std::string insert_audit(std::size_t rows) {
  return "INSERT INTO audit_log (environment, entity, entity_ref, operation, field, old_value, "
         "new_value, request_id, duration_ms, created_at) VALUES " +
         values_groups(rows, 10);
}

std::string insert_receipts(std::size_t rows) {
  return "INSERT INTO delivery_receipts (provider_message_id, status, at, error_code, "
         "error_message, received_at, outbox_id) VALUES " +
         values_groups(rows, 7);
}

std::string delivery_rank(std::string_view expr) {
  return "(CASE " + std::string(expr) +
         " WHEN 'enqueued' THEN 1 WHEN 'sent' THEN 2 WHEN 'failed' THEN 3 WHEN 'delivered' THEN 4 "
         "WHEN 'read' THEN 5 ELSE 0 END)";
}

std::string select_sealed_page(const SealedColumn& c) {
  const std::string key = std::string(c.key);
  return "SELECT CAST(" + key + " AS TEXT), " + c.column + " FROM " + c.table + " WHERE " + key +
         " > CAST($1 AS " + c.key_type + ") ORDER BY " + key + " LIMIT $2";
}

std::string update_sealed_value(const SealedColumn& c) {
  return std::string("UPDATE ") + c.table + " SET " + c.column + " = $2 WHERE " + c.key +
         " = CAST($1 AS " + c.key_type + ") AND " + c.column + " = $3";
}

}  // namespace leadgate::sql
