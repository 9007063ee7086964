-- The database workload: an in-memory sqlite3 building, indexing, joining
-- and aggregating a generated table; sqlite3 allocates through malloc for
-- its page cache, statements, strings and sort buffers.
PRAGMA cache_size = -4096;
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, item TEXT, qty INTEGER, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
INSERT INTO orders SELECT i, i % 997, 'item-' || (i * 7919 % 5003), i % 13, printf('%.*c', 20 + i % 180, 'x') FROM n;
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_item ON orders(item, qty);
CREATE TABLE customers AS SELECT DISTINCT customer AS id, 'customer-' || customer AS name FROM orders;
SELECT count(*), sum(qty) FROM orders o JOIN customers c ON c.id = o.customer WHERE o.qty > 3;
SELECT item, count(*), sum(length(note)) FROM orders GROUP BY item ORDER BY 3 DESC LIMIT 3;
SELECT group_concat(name, ',') IS NOT NULL FROM (SELECT name FROM customers ORDER BY name DESC);
UPDATE orders SET note = upper(note) WHERE id % 3 = 0;
DELETE FROM orders WHERE qty = 0;
SELECT count(*) FROM orders;
