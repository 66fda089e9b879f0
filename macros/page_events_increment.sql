{#- How the page_events models build incrementally. Each one keeps what it built and adds only what the
    records new since the last build change: the base, staged and categorised events append their new
    records; the sessionised events and the sessions replace the users with new events, each from the
    first session the new events can change (sessions spanning the boundary and late events included);
    the collated sequences replace the contacts with new events. `dbt build --full-refresh` rebuilds them all.

    What they were built with is kept with each table (its state: a fingerprint of the vars, seeds, raw
    columns and event models that shape the rows, and for the models that read the sessionised events the
    newest build of them already counted). When the fingerprint differs (a rule, a var or a model
    changed), the model empties its table and builds it in full, through the same incremental run.
    Spark keeps tables as parquet (no Delta Lake), which can append or replace whole partitions only: its
    user and contact tables are partitioned in 16 buckets, and a run replaces the buckets it touches. -#}

{% macro page_events_fingerprint() -%}
    {#- md5 of everything the page_events models' rows depend on besides the records themselves: the vars
        they read, the category seeds, the raw source's place and columns, and the SQL of every model tagged
        page_events and of int_urls_categorized (the URLs' categories). -#}
    {%- set parts = {'raw_dir': env_var('JOURNEYS_RAW_DIR', 'data/raw')} -%}
    {%- for name in [
        'journeys_raw_source', 'journeys_raw_schema', 'journeys_raw_encoding', 'journeys_raw_max_record_bytes',
        'journeys_url_query_allowlist', 'journeys_site_hosts', 'journeys_reference_date',
        'journeys_earliest_plausible_date', 'journeys_max_sequence_length', 'journeys_session_gap_minutes',
        'journeys_off_site_categories', 'journeys_path_steps', 'journeys_top_paths_length',
        'journeys_propensity_target_event', 'journeys_propensity_cutoff',
    ] -%}
        {%- do parts.update({name: var(name, none)}) -%}
    {%- endfor -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id')
            if (node.resource_type == 'seed' and node.name in ['url_categories', 'url_category_codes'])
            or (node.resource_type == 'model' and ('page_events' in node.tags or node.name == 'int_urls_categorized')) -%}
            {%- do parts.update({node.unique_id: node.checksum.checksum}) -%}
        {%- endfor -%}
        {%- set present = customer_journeys.raw_source_present('page_events') -%}
        {%- do parts.update({'page_events': customer_journeys.page_event_columns() | map(attribute=1) | list
            if present else none}) -%}
    {%- endif -%}
    {{ return(local_md5(tojson(parts))) }}
{%- endmacro %}


{% macro page_events_state(relation=none) -%}
    {#- The state kept with the model's table: {'fingerprint': ..., 'watermark': ...} (none when the table
        has no state). -#}
    {%- set relation = relation or this -%}
    {%- if not execute or load_relation(relation) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = adapter.dispatch('stored_page_events_state', 'customer_journeys')(relation) -%}
    {%- if not text or '|' not in text -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set fingerprint, watermark = text.split('|', 1) -%}
    {{ return({'fingerprint': fingerprint, 'watermark': watermark or none}) }}
{%- endmacro %}

{% macro duckdb__stored_page_events_state(relation) -%}
    {%- set rows = run_query(
        "select comment from duckdb_tables() where database_name = '" ~ relation.database
        ~ "' and schema_name = '" ~ relation.schema ~ "' and table_name = '" ~ relation.identifier ~ "'"
    ).rows -%}
    {{ return(rows[0][0] if rows | length > 0 else none) }}
{%- endmacro %}

{% macro spark__stored_page_events_state(relation) -%}
    {%- set rows = run_query("show tblproperties " ~ relation ~ " ('journeys_page_events_state')").rows -%}
    {%- set value = rows[0][1] if rows | length > 0 else none -%}
    {{ return(value if value and '|' in value else none) }}
{%- endmacro %}


{% macro page_events_incremental() -%}
    {#- True when this run adds to the table it built before: an incremental run (not --full-refresh) over
        a table built with the same fingerprint (never in a unit test, which names no table unless it
        overrides this macro). -#}
    {%- if this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set state = customer_journeys.page_events_state() -%}
    {{ return(state is not none and state.fingerprint == customer_journeys.page_events_fingerprint()) }}
{%- endmacro %}


{% macro page_events_watermark(type, earliest) -%}
    {#- SQL literal of SQL type `type`: the newest value of the column this model reads by (its
        page_events_increment watermark_of) that the table already counts; `earliest` (a literal) when the
        model builds in full. -#}
    {%- set state = customer_journeys.page_events_state() if customer_journeys.page_events_incremental() else none -%}
    {%- if not state or not state.watermark -%}
        {{ return("cast(" ~ earliest ~ " as " ~ type ~ ")") }}
    {%- endif -%}
    {{ return("cast('" ~ state.watermark ~ "' as " ~ type ~ ")") }}
{%- endmacro %}


{% macro page_events_build_time() -%}
    {#- SQL literal: when this dbt invocation started, written as `processed_at` by the rows it builds. -#}
    {{ return("cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as "
        ~ api.Column.translate_type('timestamp') ~ ")") }}
{%- endmacro %}


{% macro reset_page_events_table(collates=false) -%}
    {#- Pre-hook: an incremental run over a table built with another fingerprint empties it first, so the
        run builds every row again; `collates` (int_contact_sequences_collated): also when it does not
        collate events incrementally (macro collates_events_incrementally). -#}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not customer_journeys.page_events_incremental() -%}
        {%- do log(this.identifier ~ ": built with other rules, vars, models or raw columns; building it in full",
            info=true) -%}
        {{ return('truncate table ' ~ this) }}
    {%- endif -%}
    {%- if collates and not customer_journeys.collates_events_incrementally() -%}
        {{ return('truncate table ' ~ this) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{% macro save_page_events_state(read_by=none, column=none) -%}
    {#- Post-hook: keeps the fingerprint with the table, and for a model that reads another by a watermark
        (relation `read_by`, column `column`) the newest value of that column it has counted. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set watermark = '' -%}
    {%- if read_by is not none -%}
        {%- set newest = run_query(
            "select cast(max(" ~ column ~ ") as " ~ dbt.type_string() ~ ") from " ~ read_by
        ).columns[0].values()[0] -%}
        {%- set watermark = newest or '' -%}
    {%- endif -%}
    {{ return(adapter.dispatch('save_page_events_state', 'customer_journeys')(
        customer_journeys.page_events_fingerprint() ~ '|' ~ watermark)) }}
{%- endmacro %}

{% macro duckdb__save_page_events_state(state) -%}
    comment on table {{ this }} is '{{ state }}'
{%- endmacro %}

{% macro spark__save_page_events_state(state) -%}
    alter table {{ this }} set tblproperties ('journeys_page_events_state' = '{{ state }}')
{%- endmacro %}


{% macro page_events_increment(replaced=none, replaced_rows=none, watermark_of=none, collates=false) -%}
    {#- The incremental config of a page_events model, with the hooks that keep its state: without
        `replaced`, new rows are appended; with it, every value of column `replaced` present in the run's
        rows is replaced by them (DuckDB: delete+insert on `replaced_rows`, else `replaced`; Spark:
        insert_overwrite of the partitions `replaced`). `watermark_of` ('model.column'): the model reads
        that model's rows newer than the ones it counted before (macro page_events_watermark). `collates`:
        see reset_page_events_table. -#}
    {%- set read_by = "ref('" ~ watermark_of.split('.')[0] ~ "'), '" ~ watermark_of.split('.')[1] ~ "'"
        if watermark_of else '' -%}
    {%- set settings = adapter.dispatch('page_events_increment', 'customer_journeys')(replaced, replaced_rows) -%}
    {%- do settings.update({
        'pre_hook': ["{{ customer_journeys.reset_page_events_table(" ~ collates ~ ") }}"],
        'post_hook': ["{{ customer_journeys.save_page_events_state(" ~ read_by ~ ") }}"],
    }) -%}
    {{ return(settings) }}
{%- endmacro %}

{% macro duckdb__page_events_increment(replaced, replaced_rows) -%}
    {#- a table emptied for other rules or models takes the columns of the new SQL -#}
    {%- set settings = {'on_schema_change': 'sync_all_columns'} -%}
    {%- if replaced is none -%}
        {%- do settings.update({'incremental_strategy': 'append'}) -%}
    {%- else -%}
        {%- do settings.update({'incremental_strategy': 'delete+insert', 'unique_key': replaced_rows or replaced}) -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}

{% macro spark__page_events_increment(replaced, replaced_rows) -%}
    {#- parquet tables cannot drop columns: new columns stop the run, asking for --full-refresh -#}
    {%- set settings = {'on_schema_change': 'fail'} -%}
    {%- if replaced is none -%}
        {%- do settings.update({'incremental_strategy': 'append'}) -%}
    {%- else -%}
        {%- do settings.update({'incremental_strategy': 'insert_overwrite', 'partition_by': [replaced]}) -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}


{% macro page_events_replaced_key(partition_column, row_column) -%}
    {#- The column whose values an incremental run replaces: `row_column` on DuckDB (delete+insert of those
        rows), the partition column on Spark (insert_overwrite of those partitions). -#}
    {{ return(adapter.dispatch('page_events_replaced_key', 'customer_journeys')(partition_column, row_column)) }}
{%- endmacro %}

{% macro default__page_events_replaced_key(partition_column, row_column) -%}
    {{ return(row_column) }}
{%- endmacro %}

{% macro spark__page_events_replaced_key(partition_column, row_column) -%}
    {{ return(partition_column) }}
{%- endmacro %}


{% macro page_events_user_bucket(user_key) -%}
    {#- One of 16 buckets of a user key (the first hex digit of its md5, the same on every engine): the
        partition of the sessionised events and the sessions on Spark, whose parquet tables replace whole
        partitions. -#}
    substr({{ dbt.hash(user_key) }}, 1, 1)
{%- endmacro %}


{% macro page_events_contact_key(column, contact_id) -%}
    {#- SQL: the value of `column` for a contact: its bucket (`contact_bucket`: one of 16, the partition of
        the collated sequences on Spark) or the contact id itself. -#}
    {%- if column == 'contact_bucket' -%}
        cast({{ contact_id }} % 16 as {{ api.Column.translate_type('integer') }})
    {%- else -%}
        {{ contact_id }}
    {%- endif -%}
{%- endmacro %}


{% macro collates_events_incrementally() -%}
    {#- int_contact_sequences_collated adds to what it holds: an incremental run (page_events_incremental)
        over a table collated from events, with events of contacts to collate; the Last Page Seen history is
        collated in full. -#}
    {%- if not customer_journeys.page_events_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set counts = run_query(
        "select (select count(*) from " ~ this ~ " where sequence_source = 'page_history'),"
        ~ " (select count(*) from (select contact_id from " ~ ref('int_page_events_categorized')
        ~ " where contact_id is not null limit 1) as any_event)"
    ).rows[0] -%}
    {{ return(counts[0] == 0 and counts[1] > 0) }}
{%- endmacro %}
