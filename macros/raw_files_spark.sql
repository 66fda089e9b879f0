{#- Spark implementations of the source-reading macros of raw_files.sql. `journeys_raw_source: files`: the
    export's CSV files are read by Spark's CSV reader (RFC 4180 quoting with records spanning
    lines: multiLine on; PERMISSIVE mode, a record it cannot parse kept whole in
    `_corrupt_record`) through session temporary views `<table>__header` (the header, to check the
    columns) and `<table>__records` (every column as text); nothing is written to the raw schema.
    `journeys_raw_source: tables`: the source's tables, as on DuckDB. A single CSV file is one Spark
    partition when multiLine is on, so the reader's order is the file's order. -#}

{% macro spark_csv_options(table_name) -%}
    {%- set encoding = var('journeys_raw_encoding', 'utf-8') -%}
    {%- if encoding not in ['utf-8', 'latin-1'] -%}
        {{ exceptions.raise_compiler_error(
            "dbt var journeys_raw_encoding is '" ~ encoding ~ "': use utf-8 or latin-1"
        ) }}
    {%- endif -%}
    path '{{ customer_journeys.raw_file_path(table_name) | replace("\\", "\\\\") | replace("'", "\\'") }}',
    header 'true',
    multiLine 'true',
    quote '"',
    escape '"',
    encoding '{{ 'UTF-8' if encoding == 'utf-8' else 'ISO-8859-1' }}'
{%- endmacro %}


{% macro spark__check_raw_input(table_name) -%}
    {#- files: defines the header view (Spark fails with PATH_NOT_FOUND naming the file when it is
        absent); tables: describes the source table (fails naming it when absent). -#}
    {%- if customer_journeys.raw_source_mode() == 'files' -%}
create or replace temporary view {{ table_name }}__header
using csv
options ({{ customer_journeys.spark_csv_options(table_name) }})
    {%- else -%}
describe table {{ source('hubspot', table_name) }}
    {%- endif -%}
{%- endmacro %}


{% macro spark__check_raw_header(table_name, columns, email_column) -%}
    {#- Stops the build with one line naming the file (or table) and every required column it
        lacks; for a file, then defines `<table>__records` with the header's columns as text plus
        `_corrupt_record`. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set required = columns | map(attribute=0) | list + ([email_column] if email_column else []) -%}
    {%- set files = customer_journeys.raw_source_mode() == 'files' -%}
    {%- set names = customer_journeys.spark_raw_columns(table_name) -%}
    {%- set missing = [] -%}
    {%- for name in required if name not in names -%}
        {%- do missing.append('"' ~ name ~ '"') -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            customer_journeys.raw_source_label(table_name) ~ " lacks required column(s): "
            ~ missing | join(', ')
        ) }}
    {%- endif -%}
    {%- if files %}
create or replace temporary view {{ table_name }}__records (
    {%- for name in names %}
    `{{ name | replace('`', '``') }}` string,
    {%- endfor %}
    _corrupt_record string
)
using csv
options (
    {{ customer_journeys.spark_csv_options(table_name) }},
    mode 'PERMISSIVE',
    columnNameOfCorruptRecord '_corrupt_record'
)
    {%- endif -%}
{%- endmacro %}


{% macro spark_raw_columns(table_name) -%}
    {#- The raw source's own columns, in order (execution time only; for a file, this defines the
        header view first: a model is compiled before its hooks run). -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if customer_journeys.raw_source_mode() == 'files' -%}
        {%- do run_query(customer_journeys.spark__check_raw_input(table_name)) -%}
        {{ return(run_query('select * from ' ~ table_name ~ '__header limit 0').column_names | list) }}
    {%- else -%}
        {{ return(adapter.get_columns_in_relation(source('hubspot', table_name)) | map(attribute='name') | list) }}
    {%- endif -%}
{%- endmacro %}


{% macro spark__hubspot_records(table_name, columns, email_column, key_rule, increment) -%}
    {#- The base model's body, with the columns of duckdb__hubspot_records. Numbering is done here
        (Spark tables cannot be updated by a post-hook): record_number in reader order,
        line_number from the line spans of the records before. A record the reader could not
        parse is quarantined as `unreadable_record`, its raw text kept with the e-mail field
        blanked. -#}
    {%- set files = customer_journeys.raw_source_mode() == 'files' -%}
    {%- set source_relation = source('hubspot', table_name) -%}
    {%- set raw_columns = customer_journeys.spark_raw_columns(table_name) -%}
with

source_records as (
    select
        *,
        {%- if files %}
        monotonically_increasing_id() as reader_position
    from {{ table_name }}__records
        {%- else %}
        cast(null as string) as _corrupt_record,
        monotonically_increasing_id() as reader_position
    from {{ source_relation }}
        {%- endif %}
),

records_in_reader_order as (
    select
        row_number() over (order by reader_position) as reader_index,
        *
    from source_records
),

records_with_fields as (
    {#- not `*`: a source column already named like its snake_case name (page_events' contact_id)
        would be there twice -#}
    select
        reader_index,
        _corrupt_record,
        {%- for column in columns %}
        nullif(trim(cast(`{{ column[0] }}` as string)), '') as {{ column[1] }},
        {%- endfor %}
        array(
            {%- for name in raw_columns %}
            {%- if name == email_column %}
            ''
            {%- else %}
            cast(`{{ name | replace('`', '``') }}` as string)
            {%- endif %}
            {{- ',' if not loop.last }}
            {%- endfor %}
        ) as raw_fields,
        concat_ws('',
            {%- for name in raw_columns %}
            coalesce(cast(`{{ name | replace('`', '``') }}` as string), ''){{ ',' if not loop.last }}
            {%- endfor %}
        ) as record_text
    from records_in_reader_order
),

records_with_ids as (
    select
        *,
        coalesce(_corrupt_record, record_text) as all_text,
        {%- if key_rule == 'any' %}
        true as has_valid_id,
        cast(null as bigint) as contact_key
        {%- else %}
        {{ customer_journeys.regexp_matches(
            'contact_id', customer_journeys.regex_literal('^[0-9]{1,18}$')
        ) }} as has_valid_id,
        {{ customer_journeys.try_cast_to('contact_id', 'bigint') }} as contact_key
        {%- endif %}
    from records_with_fields
),

records_with_reason as (
    select
        *,
        case
            when _corrupt_record is not null then 'unreadable_record'
            when octet_length(all_text) > {{ customer_journeys.raw_max_record_bytes() }} then 'record_too_long'
            when contact_id is null then 'missing_contact_id'
            when not has_valid_id then 'invalid_contact_id'
            {%- if key_rule != 'any' %}
            when reader_index > min(reader_index) over (partition by contact_key)
                then 'duplicate_contact_id'
            {%- endif %}
        end as quarantine_reason
    from records_with_ids
),

records_with_lines as (
    select
        *,
        1 + length(all_text) - length(replace(all_text, '\n', '')) as line_span
    from records_with_reason
),

final as (
    select
        reader_index,
        cast(reader_index as bigint) as record_number,
        {%- if files %}
        cast(2 + coalesce(sum(line_span) over (
            order by reader_index rows between unbounded preceding and 1 preceding
        ), 0) as bigint) as line_number,
        {%- else %}
        cast(null as bigint) as line_number,
        {%- endif %}
        line_span,
        quarantine_reason,
        case
            when _corrupt_record is not null then 'Spark CSV reader: malformed record'
            when quarantine_reason = 'record_too_long' then '{{ customer_journeys.record_too_long_error() }}'
        end as reader_error,
        case
            when quarantine_reason is null then null
            when _corrupt_record is not null then _corrupt_record
            else array_join(
                transform(
                    raw_fields,
                    field -> case
                        when field is null then ''
                        when {{ customer_journeys.regexp_matches(
                            'field', customer_journeys.regex_literal('[,"\\r\\n]')
                        ) }}
                            then concat('"', replace(field, '"', '""'), '"')
                        else field
                    end
                ),
                ','
            )
        end as raw_text,
        cast(null as string) as left_out_reason,
        '{{ customer_journeys.raw_source_file(customer_journeys.raw_source_part(table_name)) }}' as source_file,
        {%- for column in columns %}
        {{ column[1] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from records_with_lines
)

select * from final
{%- if increment %}
{#- an incremental run: the records after the ones the model holds #}
where reader_index > (select coalesce(max(reader_index), 0) from {{ this }})
{%- endif %}
{%- endmacro %}


{% macro spark__add_reader_rejects(table_name, email_column, increment) -%}
    {#- Nothing to add: Spark's permissive reader keeps unparsed records as rows of the model. -#}
{%- endmacro %}


{% macro spark__number_records(table_name, increment) -%}
    {#- Nothing to do: spark__hubspot_records numbers the records itself. -#}
{%- endmacro %}


{% macro spark__stop_on_invalid_encoding(table_name) -%}
    {#- Spark's reader turns bytes invalid in the encoding into U+FFFD instead of rejecting them:
        a U+FFFD in a record that the file does not hold as such cannot be told apart, so the
        check is left to DuckDB. -#}
{%- endmacro %}


{% macro spark__raw_record_count(table_name) -%}
    {%- if customer_journeys.raw_source_mode() == 'files' -%}
    {%- do customer_journeys.spark_raw_columns(table_name) %}
    select count(*) as raw_records from {{ table_name }}__header
    {%- else -%}
    select count(*) as raw_records from {{ source('hubspot', table_name) }}
    {%- endif -%}
{%- endmacro %}
