{#- What a CSV reader cannot know about the two HubSpot export files: the header spellings of the
    columns staging reads, the `...` column, the Email column blanked in kept raw text, and the
    rules that make a parsed record unusable (missing, invalid or repeated Contact ID). The files
    themselves are read by the engine's CSV reader through the `hubspot` sources
    (models/staging/_hubspot__sources.yml); everything engine-specific is behind adapter.dispatch. -#}

{% macro raw_source_mode() -%}
    {#- `files` (the export's CSV files, read by the engine), `tables` (the export's tables already
        loaded) or the ELT tool whose HubSpot tables the warehouse holds (`fivetran`, `airbyte`,
        `dlt`; macros/elt_sources.sql). -#}
    {%- set mode = var('journeys_raw_source', 'files') -%}
    {%- if mode not in ['files', 'tables', 'fivetran', 'airbyte', 'dlt'] -%}
        {{ exceptions.raise_compiler_error(
            "dbt var journeys_raw_source is '" ~ mode ~ "': use files (the CSV export), tables (the export's"
            ~ " tables in var journeys_raw_schema) or the ELT tool that loads HubSpot there: fivetran, airbyte or dlt"
        ) }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}


{% macro raw_source_part(table_name) -%}
    {#- Which part of the export a raw table is (macro raw_source_file names it). -#}
    {{ return({'hubspot_export': 'contacts', 'pageview_hist': 'history', 'page_events': 'page_events'}[table_name]) }}
{%- endmacro %}


{% macro raw_file_path(table_name) -%}
    {{ return(env_var('JOURNEYS_RAW_DIR', 'data/raw') ~ '/' ~ table_name ~ '.csv') }}
{%- endmacro %}


{% macro raw_source_label(table_name) -%}
    {#- How messages name a raw input: the file (files) or the warehouse table (tables). -#}
    {%- if raw_source_mode() == 'files' -%}
        {{ return('Raw file ' ~ table_name ~ '.csv (' ~ raw_file_path(table_name) ~ ')') }}
    {%- else -%}
        {{ return('Raw table ' ~ var('journeys_raw_schema', 'raw_hubspot') ~ '.' ~ source('hubspot', table_name).identifier) }}
    {%- endif -%}
{%- endmacro %}


{% macro hubspot_contacts_columns() -%}
    {#- (header as exported, snake_case name) of every column staging reads. -#}
    {{ return([
        ('Contact ID', 'contact_id'),
        ('Became a Lead Date', 'became_lead_date'),
        ('Became a Subscriber Date', 'became_subscriber_date'),
        ('Became an Opportunity Date', 'became_opportunity_date'),
        ('First Conversion Date', 'first_conversion_date'),
        ('First marketing email click date', 'first_email_click_date'),
        ('First marketing email open date', 'first_email_open_date'),
        ('First marketing email send date', 'first_email_send_date'),
        ('Last Activity Date', 'last_activity_date'),
        ('Last marketing email click date', 'last_email_click_date'),
        ('Last marketing email name', 'last_email_name'),
        ('Last marketing email open date', 'last_email_open_date'),
        ('Last marketing email send date', 'last_email_send_date'),
        ('Average Pageviews', 'avg_pageviews'),
        ('First Page Seen', 'first_page_seen'),
        ('Last Page Seen', 'last_page_seen'),
        ('Number of Pageviews', 'num_pageviews'),
        ('Number of Sessions', 'num_sessions'),
        ('Marketing emails opened', 'emails_opened'),
        ('Marketing emails delivered', 'emails_delivered'),
        ('Marketing emails clicked', 'emails_clicked'),
        ('Opted out of email: Events and Community', 'opted_out_events'),
        ('Opted out of email: Program Announcements', 'opted_out_announcements'),
        ('Opted out of email: The Batch', 'opted_out_batch'),
        ('Unsubscribed from all email', 'unsubscribed_all'),
        ('Which of the following online courses have you taken from deeplearning.ai?', 'courses_taken'),
        ('Last Registered Event', 'last_event'),
        ('Last Registered Event Date', 'last_event_date'),
        ('Number of event completions', 'event_completions'),
        ('Highest level of completed education', 'education'),
        ('Job Title or Function', 'job_title'),
        ('IP Country', 'ip_country'),
        ('IP Country Code', 'ip_country_code'),
        ('Associated Company ID', 'associated_company_id'),
    ]) }}
{%- endmacro %}


{% macro hubspot_page_history_columns() -%}
    {#- (header, snake_case name) read from pageview_hist.csv, newest slot first. `Email` is
        deliberately absent: personal data is never selected. -#}
    {{ return([
        ('Contact ID', 'contact_id'),
        ('Last Page Seen Current Value', 'url_current'),
        ('Last Page Seen Change Date', 'changed_at_current'),
        ('Last Page Seen Previous Value (1)', 'url_previous_1'),
        ('Last Page Seen Change Date (1)', 'changed_at_previous_1'),
        ('Last Page Seen Previous Value (2)', 'url_previous_2'),
        ('Last Page Seen Change Date (2)', 'changed_at_previous_2'),
        ('...', 'url_previous_3'),
    ]) }}
{%- endmacro %}


{% macro hubspot_page_history_email_column() -%}
    {#- The page-history column holding the contact's e-mail address: never selected, and blanked
        (by its position) in the raw text kept for quarantined records. -#}
    {{ return('Email') }}
{%- endmacro %}


{% macro hubspot_records(table_name, columns, email_column=none, key_rule='contact_id', increment=false) -%}
    {#- key_rule: `contact_id` (digits, one record per id: a repeated id is quarantined) or `any`
        (any non-empty key, repeated freely: the user key of page_events). increment: the model appends
        to the records it holds (an incremental run): only the source's records after them are read
        into rows, numbered on from theirs (macro held_records). -#}
    {{ return(adapter.dispatch('hubspot_records', 'customer_journeys')(table_name, columns, email_column, key_rule, increment)) }}
{%- endmacro %}


{% macro held_records(table_name, increment=false) -%}
    {#- SQL struct of the records the model held before this run: the last `reader_index` and
        `record_number`, and `next_line` after the last record (DuckDB variable `<table>_held_records`,
        set by the pre-hook remember_held_records); none held outside an incremental run. -#}
    {%- if increment -%}
        getvariable('{{ table_name }}_held_records')
    {%- else -%}
        ({'reader_index': 0, 'record_number': 0, 'next_line': 2})
    {%- endif -%}
{%- endmacro %}


{% macro remember_held_records(table_name) -%}
    {#- Pre-hook of an incremental base model: the held records' last numbers (macro held_records),
        read before this run adds any. -#}
    {{ return(adapter.dispatch('remember_held_records', 'customer_journeys')(table_name)) }}
{%- endmacro %}

{% macro duckdb__remember_held_records(table_name) -%}
    {%- if is_incremental() -%}
set variable {{ table_name }}_held_records = (
    select {
        'reader_index': coalesce(max(reader_index), 0),
        'record_number': coalesce(max(record_number), 0),
        'next_line': coalesce(max(line_number + line_span), 2)
    }
    from {{ this }}
)
    {%- endif -%}
{%- endmacro %}

{% macro spark__remember_held_records(table_name) -%}
    {#- Nothing to remember: spark__hubspot_records numbers every record of the source and keeps the
        ones after the held records. -#}
{%- endmacro %}

{% macro duckdb__hubspot_records(table_name, columns, email_column, key_rule, increment) -%}
    {#- The body of a base model: one row per record of the source that the reader parsed, in the
        reader's order (`reader_index`), every read column as trimmed text (NULL when empty), the
        physical lines it spans, its quarantine reason (missing, invalid or repeated Contact ID;
        NULL = staged) and, for quarantined records only, the record written back as one CSV
        record (RFC 4180 quoting) with the e-mail column blanked. Records are numbered as if the
        reader rejected none and each spanned one line; the post-hooks add the reader's rejected
        records and renumber the records from the first that breaks that (macro number_records). -#}
    {%- set computed = ['reader_index', 'line_span', 'has_valid_id', 'contact_key', 'quarantine_reason']
        + columns | map(attribute=1) | list -%}
with

source_records as (
    select * from {{ source('hubspot', table_name) }}
),

records_in_reader_order as (
    {#- the source's columns renamed raw__<header>: a header that is already a staged name
        (page_events' contact_id, url, ...) must not collide with its trimmed copy; read as text,
        whatever type the loader gave a table's column (integer ids, timestamps, booleans) -#}
    select
        row_number() over () as reader_index,
        cast(columns(*) as varchar) as 'raw__\0',
    from source_records
),

records_with_text as (
    select
        *,
        concat(*columns(lambda c: c != 'reader_index')) as all_text,
    from records_in_reader_order
    {%- if increment %}
    where reader_index > {{ held_records(table_name, increment) }}['reader_index']
    {%- endif %}
),

{#- the record's physical lines (1 + its line breaks) counted at once, so no copy of the whole
    record's text travels further -#}
records_with_fields as (
    select
        * exclude (all_text),
        {%- for column in columns %}
        nullif(trim(cast("raw__{{ column[0] }}" as varchar)), '') as {{ column[1] }},
        {%- endfor %}
        1 + length(all_text) - length(replace(all_text, chr(10), '')) as line_span,
    from records_with_text
),

records_with_ids as (
    select
        *,
        {%- if key_rule == 'any' %}
        true as has_valid_id,
        cast(null as bigint) as contact_key,
        {%- else %}
        {{ regexp_matches('contact_id', "'^[0-9]{1,18}$'") }} as has_valid_id,
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_key,
        {%- endif %}
    from records_with_fields
),

{%- if key_rule != 'any' %}

{#- the first record of each id: an aggregate of two narrow columns, joined back, instead of a
    window that would hold every wide record in memory at once -#}
first_records as (
    select
        contact_key,
        min(reader_index) as first_reader_index,
    from records_with_ids
    where contact_key is not null
    group by contact_key
),
{%- endif %}

records_with_reason as (
    select
        records_with_ids.*,
        case
            when records_with_ids.contact_id is null then 'missing_contact_id'
            when not records_with_ids.has_valid_id then 'invalid_contact_id'
            {%- if key_rule != 'any' %}
            when records_with_ids.reader_index > first_records.first_reader_index
                then 'duplicate_contact_id'
            {%- endif %}
        end as quarantine_reason,
    from records_with_ids
    {%- if key_rule != 'any' %}
    left join first_records
        on records_with_ids.contact_key = first_records.contact_key
    {%- endif %}
),

{#- the source's own columns (extras included) of quarantined records only, e-mail blanked -#}
quarantined_fields as (
    select
        *,
        case
            when coalesce(quarantine_reason, '') != ''
                then list_value(*columns(* exclude ({{ computed | join(', ') }})
                    {%- if email_column %} replace ('' as "raw__{{ email_column }}"){% endif %}))
        end as raw_fields,
    from records_with_reason
),

final as (
    {%- set held = held_records(table_name, increment) %}
    select
        reader_index,
        {{ held }}['record_number'] + reader_index - {{ held }}['reader_index'] as record_number,
        {%- if raw_source_mode() == 'files' %}
        {{ held }}['next_line'] + reader_index - {{ held }}['reader_index'] - 1 as line_number,
        {%- else %}
        cast(null as bigint) as line_number,
        {%- endif %}
        line_span,
        quarantine_reason,
        cast(null as varchar) as reader_error,
        array_to_string(
            list_transform(
                raw_fields,
                lambda field: case
                    when field is null then ''
                    when {{ regexp_matches('field', "'[,\"\\r\\n]'") }}
                        then '"' || replace(field, '"', '""') || '"'
                    else field
                end
            ),
            ','
        ) as raw_text,
        cast(null as varchar) as left_out_reason,
        '{{ raw_source_file(raw_source_part(table_name)) }}' as source_file,
        {%- for column in columns %}
        {{ column[1] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from quarantined_fields
)

select * from final
{%- endmacro %}


{% macro check_raw_input(table_name) -%}
    {#- Pre-hook of a base model: stops the build with one line when the file (or table) is absent. -#}
    {{ return(adapter.dispatch('check_raw_input', 'customer_journeys')(table_name)) }}
{%- endmacro %}

{% macro duckdb__check_raw_input(table_name) -%}
    {%- if raw_source_mode() == 'files' -%}
        {%- if execute -%}
            {%- set path = raw_file_path(table_name) -%}
            {%- set found = run_query(
                "select count(*) from glob('" ~ path | replace("'", "''") ~ "')"
            ).columns[0].values()[0] -%}
            {%- if found == 0 -%}
                {{ exceptions.raise_compiler_error(
                    "Raw file " ~ table_name ~ ".csv not found: expected it at " ~ path
                    ~ " (set JOURNEYS_RAW_DIR to the export folder)"
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- else -%}
        {%- set schema = var('journeys_raw_schema', 'raw_hubspot') | replace("'", "''") -%}
select error('{{ raw_source_label(table_name) | replace("'", "''") }} not found (set dbt var journeys_raw_schema to the schema holding {{ table_name }})')
where not exists (
    select 1 from information_schema.tables
    where table_schema = '{{ schema }}' and table_name = '{{ table_name }}'
)
    {%- endif -%}
{%- endmacro %}


{% macro csv_read_options() -%}
    {#- DuckDB CSV reader options shared by every read of a raw file (the source's external_location
        repeats them, tied by a test): RFC 4180 quoting (line breaks inside quotes), a BOM and CRLF
        handled by the reader, encoding from var('journeys_raw_encoding'), records up to
        var('journeys_raw_max_record_bytes') long (a longer one is the reader's reject: record_too_long). -#}
    {%- set encoding = var('journeys_raw_encoding', 'utf-8') -%}
    {%- if encoding not in ['utf-8', 'latin-1'] -%}
        {{ exceptions.raise_compiler_error(
            "dbt var journeys_raw_encoding is '" ~ encoding ~ "': use utf-8 or latin-1"
        ) }}
    {%- endif -%}
    {{ return("delim = ',', quote = '\"', escape = '\"', encoding = '" ~ encoding
        ~ "', max_line_size = " ~ raw_max_record_bytes()) }}
{%- endmacro %}


{% macro raw_max_record_bytes() -%}
    {#- var('journeys_raw_max_record_bytes'), checked: the longest raw record read; a longer one is quarantined. -#}
    {%- set limit = var('journeys_raw_max_record_bytes', 2000000) -%}
    {%- if limit is not number or limit < 1000 -%}
        {{ exceptions.raise_compiler_error(
            "dbt var journeys_raw_max_record_bytes is '" ~ limit ~ "': use a number of bytes, at least 1000"
        ) }}
    {%- endif -%}
    {{ return(limit | int) }}
{%- endmacro %}


{% macro record_too_long_error() -%}
    {#- The reader_error of a record past the limit, the same on every engine. -#}
    {{ return("record longer than the " ~ raw_max_record_bytes() ~ "-byte limit (var journeys_raw_max_record_bytes)") }}
{%- endmacro %}


{% macro padded_text_columns(count=512) -%}
    {#- A `columns` struct of `count` text columns c1, c2, ...: a lenient read pads every record into it,
        with no dialect sniffing. -#}
    {%- set padded = [] -%}
    {%- for i in range(1, count + 1) -%}
        {%- do padded.append("'c" ~ i ~ "': 'VARCHAR'") -%}
    {%- endfor -%}
    {{ return('{' ~ padded | join(', ') ~ '}') }}
{%- endmacro %}


{% macro raw_file_header(table_name, as_written=false) -%}
    {#- The column names of a raw file's header, parsed by the CSV reader (quotes and a BOM
        handled), trimmed; a name repeated after trimming gets ` (2)`, ` (3)`... on its later
        copies (macro check_raw_header refuses repeated required columns). `as_written`: the
        names untouched. Read into up to 512 padded text columns, so no dialect sniffing is
        involved; errors in later records (e.g. bytes invalid in the encoding) are left to the
        real read. An empty file has no names. -#}
    {%- set header_sql -%}
        select * from read_csv('{{ raw_file_path(table_name) | replace("'", "''") }}',
            header = false, auto_detect = false, columns = {{ padded_text_columns() }},
            null_padding = true, parallel = false, strict_mode = false, ignore_errors = true,
            {{ csv_read_options() }})
        limit 1
    {%- endset -%}
    {%- set rows = run_query(header_sql).rows -%}
    {%- set names = [] -%}
    {%- set seen = {} -%}
    {%- for value in (rows[0] if rows | length > 0 else []) if value is not none -%}
        {%- if as_written -%}
            {%- do names.append(value) -%}
        {%- else -%}
            {%- set name = value | trim -%}
            {%- do seen.update({name: seen.get(name, 0) + 1}) -%}
            {%- do names.append(name if seen[name] == 1 else name ~ ' (' ~ seen[name] ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro header_problem(table_name, required) -%}
    {#- The one-line message that stops the build, or '' : an empty file, or a header that repeats
        a required column (which copy holds the data is unknowable). Warns, in one line each,
        about names padded with whitespace (read trimmed) and repeated other columns (later
        copies renamed ` (2)`...). -#}
    {%- set written = raw_file_header(table_name, as_written=true) -%}
    {%- set trimmed = written | map('trim') | list -%}
    {%- set padded = [] -%}
    {%- set repeated = [] -%}
    {%- for name in written -%}
        {%- if name != name | trim and ('"' ~ name ~ '"') not in padded -%}
            {%- do padded.append('"' ~ name ~ '"') -%}
        {%- endif -%}
        {%- if trimmed.count(name | trim) > 1 and ('"' ~ name | trim ~ '"') not in repeated -%}
            {%- do repeated.append('"' ~ name | trim ~ '"') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set repeated_required = [] -%}
    {%- for name in required if trimmed.count(name) > 1 -%}
        {%- do repeated_required.append('"' ~ name ~ '"') -%}
    {%- endfor -%}
    {%- if not written -%}
        {{ return(raw_source_label(table_name) ~ " is empty: it needs at least its header row (export it again)") }}
    {%- elif repeated_required -%}
        {{ return(
            raw_source_label(table_name) ~ " has column(s) " ~ repeated_required | join(', ')
            ~ " more than once in its header: keep one copy of each and export again"
        ) }}
    {%- endif -%}
    {%- if padded -%}
        {%- do exceptions.warn(
            raw_source_label(table_name) ~ ": header name(s) "
            ~ padded | join(', ') | replace('\t', '\\t') | replace('\r', '\\r')
            ~ " padded with whitespace; read trimmed"
        ) -%}
    {%- endif -%}
    {%- if repeated -%}
        {%- do exceptions.warn(
            raw_source_label(table_name) ~ ": column(s) " ~ repeated | join(', ')
            ~ " appear more than once in the header; later copies are ignored (renamed ' (2)', ...)"
        ) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{% macro check_raw_header(table_name, columns, email_column=none) -%}
    {#- Pre-hook of a base model: stops the build with one line naming the file (or table) and
        every required column its header lacks; for a file, hands the header's columns (all text)
        to the reader (DuckDB variable `<table>_columns`, read by the source's external_location).
        Runs before the read, never at parse or compile. -#}
    {{ return(adapter.dispatch('check_raw_header', 'customer_journeys')(table_name, columns, email_column)) }}
{%- endmacro %}

{% macro duckdb__check_raw_header(table_name, columns, email_column) -%}
    {%- set required = columns | map(attribute=0) | list + ([email_column] if email_column else []) -%}
    {%- if raw_source_mode() == 'files' -%}
        {%- if execute -%}
            {%- set problem = header_problem(table_name, required) -%}
            {%- if problem -%}
                {{ return("select error('" ~ problem | replace("'", "''") ~ "')") }}
            {%- endif -%}
            {%- set names = raw_file_header(table_name) -%}
            {%- set missing = [] -%}
            {%- for name in required if name not in names -%}
                {%- do missing.append('"' ~ name ~ '"') -%}
            {%- endfor -%}
            {%- if missing -%}
                {{ exceptions.raise_compiler_error(
                    raw_source_label(table_name) ~ " lacks required column(s): " ~ missing | join(', ')
                ) }}
            {%- endif -%}
            {%- set fields = [] -%}
            {%- for name in names -%}
                {%- do fields.append("'" ~ name | replace("'", "''") ~ "': 'VARCHAR'") -%}
            {%- endfor %}
set variable {{ table_name }}_columns = { {{- fields | join(', ') -}} }
        {%- endif -%}
    {%- else %}
select error('{{ raw_source_label(table_name) | replace("'", "''") }} lacks required column(s): ' || string_agg('"' || name || '"', ', ' order by position))
from (values
    {%- for name in required %}
    ({{ loop.index }}, '{{ name | replace("'", "''") }}'){{ ',' if not loop.last }}
    {%- endfor %}
) as required_columns (position, name)
where name not in (select column_name from (describe select * from {{ source('hubspot', table_name) }}))
having count(*) > 0
    {%- endif -%}
{%- endmacro %}


{% macro add_reader_rejects(table_name, email_column=none, increment=false) -%}
    {{ return(adapter.dispatch('add_reader_rejects', 'customer_journeys')(table_name, email_column, increment)) }}
{%- endmacro %}

{% macro duckdb__add_reader_rejects(table_name, email_column, increment) -%}
    {#- Post-hook of a base model (files only; nothing to add from tables). The records DuckDB's reader rejected in this model's scan (store_rejects temporary tables,
        named in the source's external_location): one row per record with the reader's error, a
        quarantine reason and the raw text with the e-mail field (its header position) blanked. -#}
    {%- if raw_source_mode() == 'files' -%}
insert into {{ this }} (record_number, line_span, quarantine_reason, reader_error, raw_text, source_file)
with

{# the rejects tables are named after the source table: the latest scan is this model's #}
this_scan as (
    select max(scan_id) as scan_id
    from {{ table_name }}_reject_scans
),

rejected_records as (
    select
        reject_errors.line - 1 as record_number,
        {#- the first column's error; a record-wide one (a line past the size limit) has no column -#}
        arg_min(reject_errors.error_type, coalesce(reject_errors.column_idx, 0)) as error_type,
        arg_min(reject_errors.error_message, coalesce(reject_errors.column_idx, 0)) as error_message,
        regexp_replace(
            regexp_replace(arg_min(reject_errors.csv_line, coalesce(reject_errors.column_idx, 0)), '^\r?\n', ''),
            '\r?\n$', ''
        ) as csv_line,
    from {{ table_name }}_reject_errors as reject_errors
    inner join this_scan
        on reject_errors.scan_id = this_scan.scan_id
    {#- in an incremental run, the rejects after the held records only #}
    where reject_errors.line - 1 > {{ held_records(table_name, increment) }}['record_number']
    group by reject_errors.line
),

email_position as (
    select {{ (raw_file_header(table_name).index(email_column) + 1) if email_column and execute else 'null' }} as position
)

select
    rejected_records.record_number,
    1 + length(csv_line) - length(replace(csv_line, chr(10), '')) as line_span,
    case rejected_records.error_type
        when 'MISSING COLUMNS' then 'wrong_field_count'
        when 'TOO MANY COLUMNS' then 'wrong_field_count'
        when 'UNQUOTED VALUE' then 'unterminated_quote'
        when 'INVALID ENCODING' then 'invalid_encoding'
        when 'LINE SIZE OVER MAXIMUM' then 'record_too_long'
        else 'unreadable_record'
    end as quarantine_reason,
    case rejected_records.error_type
        when 'LINE SIZE OVER MAXIMUM' then '{{ record_too_long_error() }}'
        else rejected_records.error_type || ': ' || rejected_records.error_message
    end as reader_error,
    array_to_string(
        list_transform(
            string_split(rejected_records.csv_line, ','),
            lambda field, i: case when i = email_position.position then '' else field end
        ),
        ','
    ) as raw_text,
    '{{ raw_source_file(raw_source_part(table_name)) }}' as source_file,
from rejected_records
cross join email_position
    {%- endif -%}
{%- endmacro %}


{% macro number_records(table_name=none, increment=false) -%}
    {{ return(adapter.dispatch('number_records', 'customer_journeys')(table_name, increment)) }}
{%- endmacro %}

{% macro duckdb__number_records(table_name, increment) -%}
    {#- Post-hook of a base model (files only: a table's records are numbered by hubspot_records). Every
        record has its 1-based `record_number` (the reader's rejects keep theirs; parsed records fill the
        numbers in between, in reader order) and the physical `line_number` where it starts (header =
        line 1; a record spans 1 + its line breaks). hubspot_records numbered the parsed records as if no
        record were rejected and each spanned one line: right up to the first new record that breaks that
        (a rejected one, or one spanning lines). From that record on, the new records are numbered again;
        most files have no such record, and then nothing is updated. increment: the held records
        (macro held_records) keep their numbers and the new ones follow them. -#}
    {%- if raw_source_mode() == 'files' -%}
    {%- set held = held_records(table_name, increment) %}
update {{ this }} as records
set
    record_number = numbered.record_number,
    line_number = numbered.line_number
from (
    with

    {#- merge position: how many new parsed records come before the record, plus one #}
    new_rejects as (
        select
            rowid as row_key,
            line_span,
            record_number - {{ held }}['record_number'] - row_number() over (order by record_number) + 1
                as merge_position,
            0 as rejected_first,
        from {{ this }}
        where reader_index is null and record_number > {{ held }}['record_number']
    ),

    first_renumbered as (
        select least(
            coalesce((select min(merge_position) from new_rejects), 9223372036854775807),
            coalesce((
                select min(reader_index) - {{ held }}['reader_index']
                from {{ this }}
                where reader_index > {{ held }}['reader_index'] and line_span > 1
            ), 9223372036854775807)
        ) as merge_position
    ),

    renumbered as (
        select row_key, line_span, merge_position, rejected_first
        from new_rejects

        union all

        select
            this_model.rowid as row_key,
            this_model.line_span,
            this_model.reader_index - {{ held }}['reader_index'] as merge_position,
            1 as rejected_first,
        from {{ this }} as this_model
        cross join first_renumbered
        where this_model.reader_index - {{ held }}['reader_index'] >= first_renumbered.merge_position
    ),

    renumbered_in_order as (
        select
            renumbered.row_key,
            renumbered.line_span,
            first_renumbered.merge_position - 1 + row_number() over (
                order by renumbered.merge_position, renumbered.rejected_first
            ) as new_record,
        from renumbered
        cross join first_renumbered
    )

    select
        row_key,
        {{ held }}['record_number'] + new_record as record_number,
        {#- the single-line parsed records before the first renumbered one, then the lines before it #}
        {{ held }}['next_line'] + min(new_record) over () - 1 + coalesce(sum(line_span) over (
            order by new_record rows between unbounded preceding and 1 preceding
        ), 0) as line_number,
    from renumbered_in_order
) as numbered
where records.rowid = numbered.row_key
    {%- endif -%}
{%- endmacro %}


{% macro stop_on_invalid_encoding(table_name) -%}
    {{ return(adapter.dispatch('stop_on_invalid_encoding', 'customer_journeys')(table_name)) }}
{%- endmacro %}

{% macro duckdb__stop_on_invalid_encoding(table_name) -%}
    {#- Post-hook of a base model (files only). Bytes invalid in var('journeys_raw_encoding') stop the build: one line naming the file, the first
        bad line and the var to set. -#}
    {%- if raw_source_mode() == 'files' -%}
select error(
    'Raw file {{ table_name }}.csv has bytes that are not valid {{ var("journeys_raw_encoding") }} from line '
    || first_line
    || ': set dbt var journeys_raw_encoding to the file''s encoding (utf-8 or latin-1), e.g. --vars ''{journeys_raw_encoding: latin-1}'''
)
from (
    select min(line_number) as first_line
    from {{ this }}
    where quarantine_reason = 'invalid_encoding'
)
where first_line is not null
    {%- endif -%}
{%- endmacro %}


{% macro raw_record_count(table_name) -%}
    {#- SQL giving the number of records in a raw source, counted apart from the staging path: for
        a file, a second read by the CSV reader in its lenient mode (no header, padded columns,
        the reader's rejects counted too; blank lines are not records); for a table, its rows. -#}
    {{ return(adapter.dispatch('raw_record_count', 'customer_journeys')(table_name)) }}
{%- endmacro %}

{% macro duckdb__raw_record_count(table_name) -%}
    {#- For a file, the lenient read runs once at execution time with the same options as every
        read, its records counted with the ones it rejects (a record past var journeys_raw_max_record_bytes
        is a reject of every read, so it counts without stopping the test). The records are padded to
        one column more than the header has: a wider record is a reject, counted all the same, and
        the read costs what the file's width does, not 512 columns a record. -#}
    {%- set path = raw_file_path(table_name) | replace("'", "''") -%}
    {%- set present = execute and raw_source_mode() == 'files'
        and run_query("select count(*) from glob('" ~ path ~ "')").columns[0].values()[0] > 0 -%}
    {%- if present -%}
        {%- set width = raw_file_header(table_name) | length + 1 -%}
        {%- set read -%}
        select count(*) from read_csv('{{ path }}',
            header = false, auto_detect = false, columns = {{ padded_text_columns(width) }},
            null_padding = true, parallel = false, strict_mode = false, {{ csv_read_options() }},
            store_rejects = true, rejects_table = '{{ table_name }}_count_reject_errors',
            rejects_scan = '{{ table_name }}_count_reject_scans')
        {%- endset -%}
        {%- set read_records = run_query(read).columns[0].values()[0] -%}
        {%- set rejected = run_query(
            "select count(distinct line) from " ~ table_name ~ "_count_reject_errors"
        ).columns[0].values()[0] -%}
    select cast({{ read_records + rejected - 1 }} as bigint) as raw_records
    {%- elif raw_source_mode() == 'files' -%}
    {#- no file yet (parse, compile, docs) or none at all: the build's own read names it -#}
    select count(*) as raw_records from read_csv('{{ path }}', header = false, all_varchar = true)
    {%- else -%}
    select count(*) as raw_records from {{ source('hubspot', table_name) }}
    {%- endif -%}
{%- endmacro %}


{% macro stop_on_no_contacts(table_name) -%}
    {#- Post-hook of the contacts base model: an export with no usable contact (no record, or
        none with a valid, first-of-its-kind Contact ID) stops the build with one line, before
        any model tries to learn from nothing. -#}
select {{ customer_journeys.raise_error(
    "'" ~ raw_source_label(table_name) | replace("'", "''") ~ ": the export holds no contacts ('"
    ~ " || cast(records as " ~ dbt.type_string() ~ ") || ' record(s), none with a usable Contact ID):"
    ~ " export the contacts with their Contact ID column'"
) }}
from (
    select
        count(*) as records,
        coalesce(sum(case when quarantine_reason is null then 1 else 0 end), 0) as usable
    from {{ this }}
) as counts
where usable = 0
{%- endmacro %}
