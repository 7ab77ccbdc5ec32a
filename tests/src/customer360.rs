//! The customer-360 data set of the differential suite, normalised from the shared support
//! ticket CSV (`../shared/data/customer_support_tickets.csv`, described in its README):
//!
//! - `customers`: one row per distinct e-mail address, numbered by first appearance in the
//!   file; name, age and gender from that first ticket; `profile` jsonb derived from them.
//! - `products`: one row per distinct product name, numbered in name order; `brand`,
//!   `category`, `price` and `tags` derived deterministically from the name (below).
//! - `tickets`: one row per CSV record; empty CSV cells become NULL; the satisfaction rating
//!   `"3.0"` becomes the smallint 3.
//!
//! The DDL is `tests/differential/schema.sql`; [`Customer360::insert_statements`] renders the
//! rows as multi-row INSERTs, optionally in reverse order (the determinism check of the query
//! suite loads a second copy that way). The same statements load both servers.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::csv;
use crate::error::{HarnessError, HarnessResult};
use crate::locate::{shared_data_dir, tests_crate_dir};

/// The CSV file, relative to the shared data directory.
pub const TICKETS_CSV: &str = "customer_support_tickets.csv";

/// Rows per multi-row INSERT.
pub const DEFAULT_BATCH_ROWS: usize = 500;

/// Path of the shared CSV file.
pub fn tickets_csv_path() -> PathBuf {
    shared_data_dir().join(TICKETS_CSV)
}

/// Path of the DDL file.
pub fn schema_path() -> PathBuf {
    tests_crate_dir().join("differential").join("schema.sql")
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub age: i16,
    pub gender: String,
    /// jsonb text.
    pub profile: String,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: i32,
    pub name: String,
    pub brand: String,
    pub category: String,
    /// numeric(8,2) text, e.g. `"1234.99"`.
    pub price: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: i32,
    pub customer_id: i32,
    pub product_id: i32,
    pub purchase_date: String,
    pub ticket_type: String,
    pub subject: String,
    pub description: String,
    pub status: String,
    pub resolution: Option<String>,
    pub priority: String,
    pub channel: String,
    pub first_response_at: Option<String>,
    pub resolved_at: Option<String>,
    pub satisfaction: Option<i16>,
}

/// The three tables' rows.
#[derive(Debug, Clone)]
pub struct Customer360 {
    pub customers: Vec<Customer>,
    pub products: Vec<Product>,
    pub tickets: Vec<Ticket>,
}

/// Row order of the generated INSERTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOrder {
    Forward,
    Reversed,
}

/// The CSV columns the normalisation reads, by header name.
const COLUMNS: [&str; 17] = [
    "Ticket ID",
    "Customer Name",
    "Customer Email",
    "Customer Age",
    "Customer Gender",
    "Product Purchased",
    "Date of Purchase",
    "Ticket Type",
    "Ticket Subject",
    "Ticket Description",
    "Ticket Status",
    "Resolution",
    "Ticket Priority",
    "Ticket Channel",
    "First Response Time",
    "Time to Resolution",
    "Customer Satisfaction Rating",
];

impl Customer360 {
    /// Reads and normalises the shared CSV.
    pub fn load() -> HarnessResult<Self> {
        Self::from_csv_file(&tickets_csv_path())
    }

    pub fn from_csv_file(path: &Path) -> HarnessResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            HarnessError::new(format!(
                "cannot read the shared data file {}: {e}",
                path.display()
            ))
        })?;
        Self::from_csv_text(&text)
    }

    pub fn from_csv_text(text: &str) -> HarnessResult<Self> {
        let records = csv::parse(text)?;
        let (header, rows) = records
            .split_first()
            .ok_or_else(|| HarnessError::new("the tickets CSV is empty"))?;
        let mut index = [0usize; COLUMNS.len()];
        for (slot, name) in index.iter_mut().zip(COLUMNS) {
            *slot = header.iter().position(|h| h == name).ok_or_else(|| {
                HarnessError::new(format!("the tickets CSV has no column {name:?}"))
            })?;
        }

        let mut product_names: Vec<&str> = rows.iter().map(|r| r[index[5]].as_str()).collect();
        product_names.sort_unstable();
        product_names.dedup();
        let products: Vec<Product> = product_names
            .iter()
            .zip(1..)
            .map(|(name, id)| derive_product(id, name))
            .collect();
        let product_ids: HashMap<&str, i32> =
            products.iter().map(|p| (p.name.as_str(), p.id)).collect();

        let mut customers: Vec<Customer> = Vec::new();
        let mut customer_ids: HashMap<String, i32> = HashMap::new();
        let mut tickets_per_customer: BTreeMap<i32, u32> = BTreeMap::new();
        let mut tickets = Vec::with_capacity(rows.len());
        for (line, row) in rows.iter().enumerate() {
            if row.len() != header.len() {
                return Err(HarnessError::new(format!(
                    "tickets CSV record {} has {} fields, the header {}",
                    line + 1,
                    row.len(),
                    header.len()
                )));
            }
            let field = |column: usize| row[index[column]].as_str();
            let optional =
                |column: usize| Some(field(column).to_string()).filter(|v| !v.is_empty());
            let parse_error = |what: &str| {
                HarnessError::new(format!("tickets CSV record {}: bad {what}", line + 1))
            };
            let email = field(2).to_string();
            let customer_id = match customer_ids.get(&email) {
                Some(&id) => id,
                None => {
                    let id =
                        i32::try_from(customers.len() + 1).map_err(|_| parse_error("count"))?;
                    let age: i16 = field(3).parse().map_err(|_| parse_error("age"))?;
                    customers.push(Customer {
                        id,
                        name: field(1).to_string(),
                        email: email.clone(),
                        age,
                        gender: field(4).to_string(),
                        profile: String::new(),
                    });
                    customer_ids.insert(email, id);
                    id
                }
            };
            *tickets_per_customer.entry(customer_id).or_default() += 1;
            let satisfaction = match optional(16) {
                None => None,
                Some(text) => {
                    let value: f64 = text.parse().map_err(|_| parse_error("rating"))?;
                    Some(value as i16)
                }
            };
            tickets.push(Ticket {
                id: field(0).parse().map_err(|_| parse_error("ticket id"))?,
                customer_id,
                product_id: product_ids[field(5)],
                purchase_date: field(6).to_string(),
                ticket_type: field(7).to_string(),
                subject: field(8).to_string(),
                description: field(9).to_string(),
                status: field(10).to_string(),
                resolution: optional(11),
                priority: field(12).to_string(),
                channel: field(13).to_string(),
                first_response_at: optional(14),
                resolved_at: optional(15),
                satisfaction,
            });
        }
        for customer in &mut customers {
            let ticket_count = tickets_per_customer.get(&customer.id).copied().unwrap_or(0);
            customer.profile = derive_profile(customer, ticket_count);
        }
        Ok(Customer360 {
            customers,
            products,
            tickets,
        })
    }

    /// Multi-row INSERT statements for the three tables (customers, products, tickets, in that
    /// order for the foreign keys), `batch_rows` rows each.
    pub fn insert_statements(&self, batch_rows: usize, order: RowOrder) -> Vec<String> {
        let mut statements = Vec::new();
        let customers: Vec<String> = self.customers.iter().map(customer_values).collect();
        let products: Vec<String> = self.products.iter().map(product_values).collect();
        let tickets: Vec<String> = self.tickets.iter().map(ticket_values).collect();
        for (table, columns, mut rows) in [
            (
                "customers",
                "id, name, email, age, gender, profile",
                customers,
            ),
            (
                "products",
                "id, name, brand, category, price, tags",
                products,
            ),
            (
                "tickets",
                "id, customer_id, product_id, purchase_date, ticket_type, subject, description, \
                 status, resolution, priority, channel, first_response_at, resolved_at, \
                 satisfaction",
                tickets,
            ),
        ] {
            if order == RowOrder::Reversed {
                rows.reverse();
            }
            for batch in rows.chunks(batch_rows.max(1)) {
                statements.push(format!(
                    "INSERT INTO {table} ({columns}) VALUES\n{}",
                    batch.join(",\n")
                ));
            }
        }
        statements
    }
}

/// A SQL string literal (standard_conforming_strings: only quotes are doubled).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn optional_literal(value: &Option<String>) -> String {
    value
        .as_deref()
        .map(quote_literal)
        .unwrap_or_else(|| "NULL".to_string())
}

fn customer_values(c: &Customer) -> String {
    format!(
        "({}, {}, {}, {}, {}, {})",
        c.id,
        quote_literal(&c.name),
        quote_literal(&c.email),
        c.age,
        quote_literal(&c.gender),
        quote_literal(&c.profile)
    )
}

fn product_values(p: &Product) -> String {
    let tags: Vec<String> = p.tags.iter().map(|t| quote_literal(t)).collect();
    format!(
        "({}, {}, {}, {}, {}, ARRAY[{}])",
        p.id,
        quote_literal(&p.name),
        quote_literal(&p.brand),
        quote_literal(&p.category),
        p.price,
        tags.join(", ")
    )
}

fn ticket_values(t: &Ticket) -> String {
    format!(
        "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        t.id,
        t.customer_id,
        t.product_id,
        quote_literal(&t.purchase_date),
        quote_literal(&t.ticket_type),
        quote_literal(&t.subject),
        quote_literal(&t.description),
        quote_literal(&t.status),
        optional_literal(&t.resolution),
        quote_literal(&t.priority),
        quote_literal(&t.channel),
        optional_literal(&t.first_response_at),
        optional_literal(&t.resolved_at),
        t.satisfaction
            .map(|s| s.to_string())
            .unwrap_or_else(|| "NULL".to_string())
    )
}

/// Category by the first keyword the product name contains.
const CATEGORY_KEYWORDS: [(&str, &str); 33] = [
    ("Controller", "Gaming"),
    ("PlayStation", "Gaming"),
    ("Xbox", "Gaming"),
    ("Nintendo", "Gaming"),
    ("TV", "TV & Video"),
    ("OLED", "TV & Video"),
    ("Camera", "Cameras"),
    ("Canon", "Cameras"),
    ("Nikon", "Cameras"),
    ("GoPro", "Cameras"),
    ("iPhone", "Phones"),
    ("Pixel", "Phones"),
    ("Galaxy", "Phones"),
    ("Xperia", "Phones"),
    ("MacBook", "Computers"),
    ("XPS", "Computers"),
    ("ThinkPad", "Computers"),
    ("Pavilion", "Computers"),
    ("Surface", "Computers"),
    ("ROG", "Computers"),
    ("Photoshop", "Software"),
    ("AutoCAD", "Software"),
    ("Office", "Software"),
    ("AirPods", "Audio"),
    ("Bose", "Audio"),
    ("Soundbar", "Audio"),
    ("Fitbit", "Wearables"),
    ("Garmin", "Wearables"),
    ("Echo", "Smart Home"),
    ("Nest", "Smart Home"),
    ("Hue", "Smart Home"),
    ("Vacuum", "Appliances"),
    ("Washing", "Appliances"),
];

/// Brand for names whose first word is a product line rather than the maker.
const BRAND_EXCEPTIONS: [(&str, &str); 6] = [
    ("iPhone", "Apple"),
    ("MacBook", "Apple"),
    ("PlayStation", "Sony"),
    ("Xbox", "Microsoft"),
    ("Roomba", "iRobot"),
    ("Nest", "Google"),
];

/// Brand: the first word, or the maker for a product line; category by keyword ("Electronics"
/// when none matches); price: 49.99 to 1498.99 from a hash of the name's bytes; tags: the
/// category and brand in lower case, plus `premium` above 1000.
fn derive_product(id: i32, name: &str) -> Product {
    let first_word = name.split_whitespace().next().unwrap_or(name);
    let brand = BRAND_EXCEPTIONS
        .iter()
        .find(|(line, _)| *line == first_word)
        .map(|(_, maker)| maker.to_string())
        .unwrap_or_else(|| first_word.to_string());
    let category = CATEGORY_KEYWORDS
        .iter()
        .find(|(keyword, _)| name.contains(keyword))
        .map(|(_, category)| category.to_string())
        .unwrap_or_else(|| "Electronics".to_string());
    let hash = name
        .bytes()
        .enumerate()
        .fold(0u64, |acc, (i, b)| acc + u64::from(b) * (i as u64 + 7) * 31);
    let whole = 49 + hash % 1_450;
    let price = format!("{whole}.99");
    let mut tags = vec![category.to_lowercase(), brand.to_lowercase()];
    if whole >= 1_000 {
        tags.push("premium".to_string());
    }
    Product {
        id,
        name: name.to_string(),
        brand,
        category,
        price,
        tags,
    }
}

/// `{"domain": ..., "age_band": "30-39", "segment": ..., "newsletter": bool, "tickets": n}`.
fn derive_profile(customer: &Customer, ticket_count: u32) -> String {
    let domain = customer.email.rsplit('@').next().unwrap_or("");
    let decade = customer.age / 10 * 10;
    let segment = match customer.age {
        ..=29 => "young",
        30..=54 => "adult",
        _ => "senior",
    };
    serde_json::json!({
        "domain": domain,
        "age_band": format!("{decade}-{}", decade + 9),
        "segment": segment,
        "newsletter": customer.id % 3 == 0,
        "tickets": ticket_count,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_a_small_csv() {
        let header = COLUMNS.join(",");
        let text = format!(
            "{header}\n\
             1,Ann O'Neil,a@example.com,32,Female,GoPro Hero,2021-03-22,Technical issue,\
             Product setup,\"Line one\nline \"\"two\"\"\",Closed,Fixed,Low,Email,\
             2023-06-01 12:15:36,2023-06-01 18:05:38,3.0\n\
             2,Bob,b@example.org,61,Male,iPhone,2020-01-01,Refund request,Battery life,d,\
             Open,,High,Chat,,,\n\
             3,Ann Again,a@example.com,33,Other,iPhone,2020-01-02,Refund request,\
             Battery life,d,Open,,High,Chat,,,\n"
        );
        let data = Customer360::from_csv_text(&text).unwrap();
        assert_eq!(data.customers.len(), 2);
        assert_eq!(data.products.len(), 2);
        assert_eq!(data.products[1].brand, "Apple");
        assert_eq!(data.tickets[2].customer_id, 1);
        assert_eq!(data.tickets[0].satisfaction, Some(3));
        assert_eq!(data.tickets[1].resolution, None);
        assert!(data.customers[0].profile.contains("\"tickets\":2"));
        let statements = data.insert_statements(2, RowOrder::Forward);
        assert_eq!(statements.len(), 4);
        assert!(statements[0].contains("'Ann O''Neil'"));
    }
}
