"""Two sample databases shaped like the public ones restore tools are tried on: Chinook (a music
store, with quoted mixed-case names) and Pagila (a film rental, with everything a real schema
grows: an enum, a domain, plpgsql functions and triggers, views and a materialized view, a
partitioned table, a custom aggregate, full-text search, owners and grants, extensions in a schema
of their own). The rows are generated, a few thousand per table, so that a restore stays quick.

tests/pg_dumps.py dumps them in every format; the restore tests restore them as an untrusted
snapshot is restored: as the restore role, with drill's restrictions, and they must still pass.
"""

from __future__ import annotations

# Roles the source cluster has and the dumps name (owners, grants, a policy).
ROLES = ("chinook_owner", "pagila_owner", "pagila_reader")

CHINOOK = """
CREATE EXTENSION citext;
CREATE TABLE "Artist" ("ArtistId" int PRIMARY KEY, "Name" varchar(120));
CREATE TABLE "Album" (
    "AlbumId" int PRIMARY KEY, "Title" varchar(160) NOT NULL,
    "ArtistId" int NOT NULL REFERENCES "Artist" ("ArtistId"));
CREATE TABLE "MediaType" ("MediaTypeId" int PRIMARY KEY, "Name" varchar(120));
CREATE TABLE "Genre" ("GenreId" int PRIMARY KEY, "Name" varchar(120));
CREATE TABLE "Track" (
    "TrackId" int PRIMARY KEY, "Name" varchar(200) NOT NULL,
    "AlbumId" int REFERENCES "Album" ("AlbumId"),
    "MediaTypeId" int NOT NULL REFERENCES "MediaType" ("MediaTypeId"),
    "GenreId" int REFERENCES "Genre" ("GenreId"),
    "Composer" varchar(220), "Milliseconds" int NOT NULL, "Bytes" int,
    "UnitPrice" numeric(10, 2) NOT NULL);
CREATE TABLE "Employee" (
    "EmployeeId" int PRIMARY KEY, "LastName" varchar(20) NOT NULL, "FirstName" varchar(20) NOT NULL,
    "Title" varchar(30), "ReportsTo" int REFERENCES "Employee" ("EmployeeId"),
    "HireDate" timestamp, "Email" citext);
CREATE TABLE "Customer" (
    "CustomerId" int PRIMARY KEY, "FirstName" varchar(40) NOT NULL, "LastName" varchar(20) NOT NULL,
    "Country" varchar(40), "Email" citext NOT NULL UNIQUE,
    "SupportRepId" int REFERENCES "Employee" ("EmployeeId"));
CREATE TABLE "Invoice" (
    "InvoiceId" int PRIMARY KEY, "CustomerId" int NOT NULL REFERENCES "Customer" ("CustomerId"),
    "InvoiceDate" timestamp NOT NULL, "BillingCountry" varchar(40), "Total" numeric(10, 2) NOT NULL);
CREATE TABLE "InvoiceLine" (
    "InvoiceLineId" int PRIMARY KEY, "InvoiceId" int NOT NULL REFERENCES "Invoice" ("InvoiceId"),
    "TrackId" int NOT NULL REFERENCES "Track" ("TrackId"),
    "UnitPrice" numeric(10, 2) NOT NULL, "Quantity" int NOT NULL);
CREATE TABLE "Playlist" ("PlaylistId" int PRIMARY KEY, "Name" varchar(120));
CREATE TABLE "PlaylistTrack" (
    "PlaylistId" int NOT NULL REFERENCES "Playlist" ("PlaylistId"),
    "TrackId" int NOT NULL REFERENCES "Track" ("TrackId"),
    PRIMARY KEY ("PlaylistId", "TrackId"));
CREATE INDEX "IFK_TrackAlbumId" ON "Track" ("AlbumId");
CREATE INDEX "IFK_InvoiceLineTrackId" ON "InvoiceLine" ("TrackId");

INSERT INTO "Artist" SELECT g, 'Artist ' || g FROM generate_series(1, 275) g;
INSERT INTO "Album" SELECT g, 'Album ' || g, 1 + g % 275 FROM generate_series(1, 347) g;
INSERT INTO "MediaType" SELECT g, 'Media ' || g FROM generate_series(1, 5) g;
INSERT INTO "Genre" SELECT g, 'Genre ' || g FROM generate_series(1, 25) g;
INSERT INTO "Track"
    SELECT g, 'Track ' || g, 1 + g % 347, 1 + g % 5, 1 + g % 25, 'Composer ' || g % 97,
           180000 + g % 60000, 5000000 + g, 0.99
    FROM generate_series(1, 3503) g;
INSERT INTO "Employee" VALUES (1, 'Adams', 'Andrew', 'General Manager', NULL, '2002-08-14', 'andrew@chinookcorp.com');
INSERT INTO "Employee"
    SELECT g, 'Last' || g, 'First' || g, 'Sales Support Agent', 1, timestamp '2003-01-01' + g * interval '30 days',
           'Employee' || g || '@ChinookCorp.com'
    FROM generate_series(2, 8) g;
INSERT INTO "Customer"
    SELECT g, 'First' || g, 'Last' || g, 'Country ' || g % 24, 'Customer' || g || '@Example.com', 2 + g % 7
    FROM generate_series(1, 59) g;
INSERT INTO "Invoice"
    SELECT g, 1 + g % 59, timestamp '2021-01-01' + g * interval '1 day', 'Country ' || g % 24, (g % 25) + 0.99
    FROM generate_series(1, 412) g;
INSERT INTO "InvoiceLine" SELECT g, 1 + g % 412, 1 + g % 3503, 0.99, 1 FROM generate_series(1, 2240) g;
INSERT INTO "Playlist" SELECT g, 'Playlist ' || g FROM generate_series(1, 18) g;
INSERT INTO "PlaylistTrack" SELECT 1 + g % 18, g FROM generate_series(1, 3503) g;
ALTER TABLE "Track" OWNER TO chinook_owner;
ALTER TABLE "Album" OWNER TO chinook_owner;
"""

PAGILA = """
CREATE SCHEMA extensions;
CREATE EXTENSION pg_trgm WITH SCHEMA extensions;
CREATE EXTENSION pgstattuple;
CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);

CREATE FUNCTION last_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.last_update = CURRENT_TIMESTAMP; RETURN NEW; END $$;
CREATE FUNCTION _group_concat(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2 ELSE $1 || ', ' || $2 END $$;
CREATE AGGREGATE group_concat(text) (SFUNC = _group_concat, STYPE = text);

CREATE TABLE language (language_id serial PRIMARY KEY, name char(20) NOT NULL,
    last_update timestamptz NOT NULL DEFAULT now());
CREATE TABLE actor (actor_id serial PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL,
    last_update timestamptz NOT NULL DEFAULT now());
CREATE TABLE category (category_id serial PRIMARY KEY, name text NOT NULL,
    last_update timestamptz NOT NULL DEFAULT now());
CREATE TABLE film (
    film_id serial PRIMARY KEY, title text NOT NULL, description text, release_year year,
    language_id int NOT NULL REFERENCES language (language_id), rental_rate numeric(4, 2) NOT NULL DEFAULT 4.99,
    length smallint, rating mpaa_rating DEFAULT 'G', special_features text[],
    last_update timestamptz NOT NULL DEFAULT now(), fulltext tsvector NOT NULL);
CREATE TABLE film_actor (actor_id int NOT NULL REFERENCES actor (actor_id),
    film_id int NOT NULL REFERENCES film (film_id), last_update timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, film_id));
CREATE TABLE film_category (film_id int NOT NULL REFERENCES film (film_id),
    category_id int NOT NULL REFERENCES category (category_id), last_update timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (film_id, category_id));
CREATE TABLE inventory (inventory_id serial PRIMARY KEY, film_id int NOT NULL REFERENCES film (film_id),
    store_id int NOT NULL, last_update timestamptz NOT NULL DEFAULT now());
CREATE TABLE rental (rental_id serial PRIMARY KEY, rental_date timestamptz NOT NULL,
    inventory_id int NOT NULL REFERENCES inventory (inventory_id), customer_id int NOT NULL,
    return_date timestamptz, last_update timestamptz NOT NULL DEFAULT now());
CREATE TABLE payment (payment_id serial, customer_id int NOT NULL, rental_id int NOT NULL,
    amount numeric(5, 2) NOT NULL, payment_date timestamptz NOT NULL,
    PRIMARY KEY (payment_date, payment_id)) PARTITION BY RANGE (payment_date);
CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
CREATE TABLE payment_p2022_03 PARTITION OF payment FOR VALUES FROM ('2022-03-01') TO ('2022-04-01');

CREATE TRIGGER last_updated BEFORE UPDATE ON actor FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON film FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER film_fulltext_trigger BEFORE INSERT OR UPDATE ON film FOR EACH ROW
    EXECUTE FUNCTION tsvector_update_trigger(fulltext, 'pg_catalog.english', title, description);
CREATE INDEX film_fulltext_idx ON film USING gist (fulltext);
CREATE INDEX film_title_trgm ON film USING gin (title extensions.gin_trgm_ops);
CREATE INDEX idx_title ON film (title);
CREATE INDEX idx_fk_inventory_id ON rental (inventory_id);

CREATE FUNCTION film_in_stock(p_film_id int, p_store_id int) RETURNS SETOF int LANGUAGE sql AS $$
    SELECT inventory_id FROM inventory WHERE film_id = $1 AND store_id = $2 $$;

INSERT INTO language (name) SELECT 'Language ' || g FROM generate_series(1, 6) g;
INSERT INTO actor (first_name, last_name) SELECT 'First' || g, 'Last' || g FROM generate_series(1, 200) g;
INSERT INTO category (name) SELECT 'Category ' || g FROM generate_series(1, 16) g;
INSERT INTO film (title, description, release_year, language_id, length, rating, special_features)
    SELECT 'FILM TITLE ' || g, 'A story about number ' || g, 2006, 1 + g % 6, 46 + g % 140,
           (ARRAY['G', 'PG', 'PG-13', 'R', 'NC-17'])[1 + g % 5]::mpaa_rating, ARRAY['Trailers']
    FROM generate_series(1, 1000) g;
INSERT INTO film_actor (actor_id, film_id) SELECT 1 + g % 200, g FROM generate_series(1, 1000) g;
INSERT INTO film_category (film_id, category_id) SELECT g, 1 + g % 16 FROM generate_series(1, 1000) g;
INSERT INTO inventory (film_id, store_id) SELECT 1 + g % 1000, 1 + g % 2 FROM generate_series(1, 4581) g;
INSERT INTO rental (rental_date, inventory_id, customer_id, return_date)
    SELECT timestamptz '2022-01-01' + g * interval '7 minutes', 1 + g % 4581, 1 + g % 599,
           timestamptz '2022-01-03' + g * interval '7 minutes'
    FROM generate_series(1, 16044) g;
INSERT INTO payment (customer_id, rental_id, amount, payment_date)
    SELECT 1 + g % 599, g, (g % 10) + 0.99, timestamptz '2022-01-01' + g * interval '7 minutes'
    FROM generate_series(1, 16044) g;

CREATE VIEW actor_info AS
    SELECT a.actor_id, a.first_name, a.last_name, group_concat(f.title) AS film_info
    FROM actor a JOIN film_actor fa ON fa.actor_id = a.actor_id JOIN film f ON f.film_id = fa.film_id
    GROUP BY a.actor_id, a.first_name, a.last_name;
CREATE MATERIALIZED VIEW rental_by_category AS
    SELECT c.name AS category, sum(p.amount) AS total_sales
    FROM payment p JOIN rental r ON r.rental_id = p.rental_id JOIN inventory i ON i.inventory_id = r.inventory_id
    JOIN film_category fc ON fc.film_id = i.film_id JOIN category c ON c.category_id = fc.category_id
    GROUP BY c.name;
CREATE UNIQUE INDEX rental_category ON rental_by_category (category);

ALTER TABLE film ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers_see_all ON film TO pagila_reader USING (true);
ALTER TABLE film OWNER TO pagila_owner;
ALTER TABLE actor OWNER TO pagila_owner;
ALTER FUNCTION last_updated() OWNER TO pagila_owner;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO pagila_reader;
"""

# Rows per table, as verification counts them (a partitioned table's rows in its partitions).
CHINOOK_ROWS = {
    "public.Album": 347,
    "public.Artist": 275,
    "public.Customer": 59,
    "public.Employee": 8,
    "public.Genre": 25,
    "public.Invoice": 412,
    "public.InvoiceLine": 2240,
    "public.MediaType": 5,
    "public.Playlist": 18,
    "public.PlaylistTrack": 3503,
    "public.Track": 3503,
}
PAGILA_ROWS = {
    "public.actor": 200,
    "public.category": 16,
    "public.film": 1000,
    "public.film_actor": 1000,
    "public.film_category": 1000,
    "public.inventory": 4581,
    "public.language": 6,
    "public.payment_p2022_01": 6377,
    "public.payment_p2022_02": 5760,
    "public.payment_p2022_03": 3907,
    "public.rental": 16044,
}
