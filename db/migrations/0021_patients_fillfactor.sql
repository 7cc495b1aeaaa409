-- Every dose (and order, ruling, episode change) bumps patients.facts_version
-- (migration 0011). On a full page that update could not stay on the page
-- (no HOT update), so each bump wrote a new entry into every index of
-- patients, three trigram GIN indexes among them: about 100 buffers a dose,
-- and indexes growing by a row per dose. facts_version is in no index, so
-- with room left on the page the bump is a HOT update that touches no index.
-- New pages are filled to 80%; pages written before this fill up their room
-- as vacuum prunes the row versions that the bumps leave behind.
ALTER TABLE patients SET (fillfactor = 80);
