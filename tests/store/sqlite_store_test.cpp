// SQLite-only behaviour of SqliteStore: the database file, its migration table and the
// sqlite: URL. What every Store does is tested for both stores by the conformance suite
// (conformance.h).
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "crypto/crypto.h"

namespace leadgate {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("leadgate_sqlite_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter.fetch_add(1)) + "_" + random_token(8));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "leadgate.db").string();
    store_ = std::make_unique<SqliteStore>(path_);
    store_->migrate();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::int64_t count_rows(const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::int64_t n = -1;
    if (stmt && sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, AppliesEverySqliteMigrationOnce) {
  store_->migrate();
  EXPECT_EQ(store_->expected_schema_version(), static_cast<int>(sqlite_migrations().size()));
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  EXPECT_EQ(count_rows("SELECT COUNT(*) FROM schema_migrations"),
            static_cast<std::int64_t>(sqlite_migrations().size()));
}

// A never-migrated database file reports version 0 (SQLite resolves table names at prepare time,
// so the store checks for the migrations table first).
TEST_F(SqliteStoreTest, FreshDatabaseHasVersionZero) {
  SqliteStore fresh((dir_ / "fresh.db").string());
  EXPECT_EQ(fresh.schema_version(), 0);
  fresh.migrate();
  EXPECT_EQ(fresh.schema_version(), fresh.expected_schema_version());
}

TEST_F(SqliteStoreTest, MigratedDataSurvivesReopenAndRemigrate) {
  ApiKeyRow k{"lg_abc", "crm", "hash-1", {"orbit"}, 1, false};
  store_->insert_api_key(k);
  store_.reset();
  store_ = std::make_unique<SqliteStore>(path_);
  store_->migrate();
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  EXPECT_EQ(store_->count_api_keys(), 1);
  EXPECT_EQ(count_rows("SELECT COUNT(*) FROM schema_migrations"),
            static_cast<std::int64_t>(sqlite_migrations().size()));
}

TEST_F(SqliteStoreTest, OpenStoreSqliteUrlCreatesTheDirectory) {
  const auto path = dir_ / "sub" / "deeper" / "x.db";
  auto s = open_store("sqlite:" + path.string(), 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->kind(), "sqlite");
  EXPECT_TRUE(std::filesystem::exists(path));
  s->migrate();
  EXPECT_EQ(s->schema_version(), s->expected_schema_version());
}

}  // namespace
}  // namespace leadgate
