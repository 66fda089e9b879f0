{#- Segment assignment in SQL, the twin of journeys.segments.SegmentModel.score: the same features,
    dissimilarity and tie rule, read from the tables the segment model writes (segment_centroids,
    segment_feature_scaling), so that a model trained by the Python models scores contacts on any
    engine. -#}

{% macro segment_model_features(scaling_relation) -%}
    {#- (feature, source_column, feature_type) of the saved model, in its feature order. Read at
        execution time; a missing table fails a run or build with a message saying how to provide it
        (compile and docs generate, which may run before any build, see no features). Empty when
        the segment model was skipped (data it cannot train on). -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=scaling_relation.database,
        schema=scaling_relation.schema,
        identifier=scaling_relation.identifier
    ) -%}
    {%- if found is none and flags.WHICH not in ('run', 'build') -%}
        {#- compile / docs generate before any build: nothing to read yet -#}
        {{ return([]) }}
    {%- elif found is none -%}
        {{ exceptions.raise_compiler_error(
            "contact_segments_sql needs the saved segment model: " ~ scaling_relation
            ~ " does not exist. It is written by the Python model segment_feature_scaling (dbt build on"
            ~ " DuckDB); on an engine without dbt Python models copy segment_feature_scaling and"
            ~ " segment_centroids there first (README, Running on Spark)."
        ) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select distinct feature_index, feature, source_column, feature_type from "
        ~ scaling_relation ~ " order by feature_index"
    ) -%}
    {%- set features = [] -%}
    {%- for row in rows -%}
        {%- do features.append((row[1], row[2], row[3])) -%}
    {%- endfor -%}
    {{ return(features) }}
{%- endmacro %}


{% macro log1p(value) -%}
    {{ return(adapter.dispatch('log1p', 'customer_journeys')(value)) }}
{%- endmacro %}

{% macro duckdb__log1p(value) -%}
    ln(1 + {{ value }})
{%- endmacro %}

{% macro spark__log1p(value) -%}
    log1p({{ value }})
{%- endmacro %}


{% macro score_segments(contacts_relation, centroids_relation, scaling_relation) -%}
    {#- One row per contact: the nearest prototype (lowest segment_id among equals, as numpy's
        argmin) and the dissimilarity to it. Numeric coordinates whose value is missing are left
        out; each categorical mismatch adds gamma. -#}
    {%- set features = customer_journeys.segment_model_features(scaling_relation) -%}
    {%- set double_type = api.Column.translate_type('double') -%}
    {%- set string_type = api.Column.translate_type('string') -%}
    {%- if execute and not features %}
{#- the segment model was skipped: no segments, the same columns -#}
select
    cast(null as {{ api.Column.translate_type('bigint') }}) as contact_id,
    cast(null as {{ api.Column.translate_type('integer') }}) as segment_id,
    cast(null as {{ double_type }}) as dissimilarity,
    cast(null as {{ string_type }}) as model_version
limit 0
    {%- else %}

with

contacts as (
    select * from {{ contacts_relation }}
),

centroids as (
    select * from {{ centroids_relation }}
),

scaling as (
    select * from {{ scaling_relation }}
),

model_scaling as (
    select
        max(gamma) as gamma,
        max(model_version) as model_version
        {%- for feature, source_column, feature_type in features
            if feature_type in ('count', 'days') %},
        max(case when feature = '{{ feature }}' then scale_mean end) as {{ feature }}__mean,
        max(case when feature = '{{ feature }}' then scale_std end) as {{ feature }}__std
        {%- endfor %}
    from scaling
),

kept_categories as (
    select
        feature,
        category
    from scaling
    where feature_type = 'categorical'
        and category is not null
),

contact_features as (
    select
        contacts.contact_id
        {%- for feature, source_column, feature_type in features %},
        {%- if feature_type == 'count' %}
        ({{ customer_journeys.log1p(
            'coalesce(cast(contacts.' ~ source_column ~ ' as ' ~ double_type ~ '), 0)'
        ) }} - model_scaling.{{ feature }}__mean) / model_scaling.{{ feature }}__std
        {%- elif feature_type == 'days' %}
        (cast(contacts.{{ source_column }} as {{ double_type }}) - model_scaling.{{ feature }}__mean)
            / model_scaling.{{ feature }}__std
        {%- elif feature_type == 'presence' %}
        case when contacts.{{ source_column }} is null then 'false' else 'true' end
        {%- else %}
        case
            when contacts.{{ source_column }} is null then 'missing'
            when kept_{{ feature }}.category is not null
                or cast(contacts.{{ source_column }} as {{ string_type }}) = 'missing'
                then cast(contacts.{{ source_column }} as {{ string_type }})
            else 'other'
        end
        {%- endif %} as {{ feature }}
        {%- endfor %}
    from contacts
    cross join model_scaling
    {%- for feature, source_column, feature_type in features if feature_type == 'categorical' %}
    left join kept_categories as kept_{{ feature }}
        on kept_{{ feature }}.feature = '{{ feature }}'
            and kept_{{ feature }}.category
                = cast(contacts.{{ source_column }} as {{ string_type }})
    {%- endfor %}
),

prototypes as (
    select
        segment_id
        {%- for feature, source_column, feature_type in features %},
        {%- if feature_type in ('count', 'days') %}
        max(case when feature = '{{ feature }}' then scaled_value end) as {{ feature }}
        {%- else %}
        max(case when feature = '{{ feature }}' then category end) as {{ feature }}
        {%- endif %}
        {%- endfor %}
    from centroids
    group by segment_id
),

contact_prototype_dissimilarities as (
    select
        contact_features.contact_id,
        prototypes.segment_id,
        (
            cast(0 as {{ double_type }})
            {%- for feature, source_column, feature_type in features
                if feature_type in ('count', 'days') %}
            + coalesce(
                (contact_features.{{ feature }} - prototypes.{{ feature }})
                * (contact_features.{{ feature }} - prototypes.{{ feature }}),
                0
            )
            {%- endfor %}
        ) + model_scaling.gamma * (
            0
            {%- for feature, source_column, feature_type in features
                if feature_type in ('categorical', 'presence') %}
            + case when contact_features.{{ feature }} = prototypes.{{ feature }} then 0 else 1 end
            {%- endfor %}
        ) as dissimilarity
    from contact_features
    cross join prototypes
    cross join model_scaling
),

ranked_prototypes as (
    select
        contact_id,
        segment_id,
        dissimilarity,
        row_number() over (
            partition by contact_id
            order by dissimilarity, segment_id
        ) as prototype_rank
    from contact_prototype_dissimilarities
),

final as (
    select
        ranked_prototypes.contact_id,
        cast(ranked_prototypes.segment_id as {{ api.Column.translate_type('integer') }}) as segment_id,
        ranked_prototypes.dissimilarity,
        model_scaling.model_version
    from ranked_prototypes
    cross join model_scaling
    where ranked_prototypes.prototype_rank = 1
)

select * from final
    {%- endif %}
{%- endmacro %}
