"""The SQL of schema steps m013 and m014's views and triggers (schema.py applies them):
a version's runs with a delta list expanded (lists.py), each paragraph read whole with
an edit rebuilt from its base (splice.py)."""

from __future__ import annotations

from monitor.store.splice import FROM, FULL, TEXT

# m013: a list element is a run of ids (n, or [a, b]) when positive, the base's runs i to j
# when negative (-i, or [-i, -j], 1 from the first); a whole list has no negative.
_FIRST = "(case {0}.type when 'array' then {0}.value ->> 0 else {0}.value end)"
_LAST = "(case {0}.type when 'array' then {0}.value ->> 1 else {0}.value end)"
_J0, _J1, _K0, _K1, _X0, _X1 = (f.format(t) for t in "jkx" for f in (_FIRST, _LAST))
# The runs before element j of a delta: one each, a copy of runs i to j (i - j) more.
_BEFORE = (
    f"(select count(*) + coalesce(sum(case when {_X0} < 0 then {_X0} - {_X1} end), 0)"
    " from json_each(v.paragraph_ids) x where x.key < j.key)"
)
LIST_VIEWS_SQL = (
    # Each version's runs of paragraph ids in order (``run`` from 0), a delta expanded
    # with its base's runs: the same runs as the whole list would hold.
    "create view version_runs as select v.id as version_id, v.document, v.number,"
    f" case when k.key is null then (case when v.ids_base is null then j.key else {_BEFORE} end)"
    f" else {_BEFORE} + k.key + 1 + {_J0} end as run,"
    f" coalesce({_K0}, {_J0}) as first_id, coalesce({_K1}, {_J1}) as last_id"
    " from versions v join json_each(v.paragraph_ids) j"
    f" left join versions b on {_J0} < 0 and b.document = v.document and b.number = v.ids_base"
    f" left join json_each(b.paragraph_ids) k on k.key between -{_J0} - 1 and -{_J1} - 1",
    # As m010 made them, on version_runs: each version's paragraphs in order (of ``run``,
    # then ``paragraph_id``), and its whole text (NULL: a version in its pre-m010 form).
    "create view version_paragraphs as select r.version_id, r.document, r.number, r.run,"
    " p.id as paragraph_id, p.text"
    " from version_runs r join paragraphs p on p.id between r.first_id and r.last_id",
    "create view version_texts as select v.id, v.document, v.number, v.first_seen,"
    " (select group_concat(text, char(10)) from (select p.text from version_runs r"
    " join paragraphs p on p.id between r.first_id and r.last_id where r.version_id = v.id"
    " order by r.run, p.id)) as text from versions v",
)

_WHOLE = "(select {0} from paragraphs b where b.id = {1}.base)"
EDITS_SQL = (
    "create trigger paragraphs_ai after insert on paragraphs begin"
    " insert into paragraphs_fts (rowid, text) values (new.id, case when new.base is null"
    f" then new.text else {_WHOLE.format(FULL.format(p='new', b='b'), 'new')} end); end",
    "create trigger paragraphs_ad after delete on paragraphs begin"
    " insert into paragraphs_fts (paragraphs_fts, rowid, text) values ('delete', old.id,"
    f" case when old.base is null then old.text else"
    f" {_WHOLE.format(FULL.format(p='old', b='b'), 'old')} end); end",
    # Each paragraph's whole text (an edit of another one rebuilt).
    f"create view paragraph_texts as select p.id, p.hash, {TEXT} as text from {FROM}",
    # As m013 made them, each paragraph read whole.
    "create view version_paragraphs as select r.version_id, r.document, r.number, r.run,"
    f" p.id as paragraph_id, {TEXT} as text from version_runs r"
    " join paragraphs p on p.id between r.first_id and r.last_id"
    " left join paragraphs b on b.id = p.base",
    "create view version_texts as select v.id, v.document, v.number, v.first_seen,"
    f" (select group_concat(text, char(10)) from (select {TEXT} as text from version_runs r"
    " join paragraphs p on p.id between r.first_id and r.last_id"
    " left join paragraphs b on b.id = p.base where r.version_id = v.id"
    " order by r.run, p.id)) as text from versions v",
)
