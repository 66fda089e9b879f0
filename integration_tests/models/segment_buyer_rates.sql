{#- One row per segment of the customer_journeys package: its contacts, how many bought a course, and their
    mean purchase propensity. A model of the host's own, over the package's marts. -#}

with

segments as (
    select * from {{ ref('customer_journeys', 'segments') }}
),

contact_segments as (
    select * from {{ ref('customer_journeys', 'contact_segments') }}
),

contact_features as (
    select * from {{ ref('customer_journeys', 'contact_features') }}
),

purchase_propensity as (
    select * from {{ ref('customer_journeys', 'purchase_propensity') }}
),

contacts_scored as (
    select
        contact_segments.segment_id,
        contact_features.is_buyer,
        purchase_propensity.propensity
    from contact_segments
    inner join contact_features on contact_segments.contact_id = contact_features.contact_id
    left join purchase_propensity on contact_segments.contact_id = purchase_propensity.contact_id
),

final as (
    select
        segments.segment_id,
        segments.segment_name,
        count(*) as contacts,
        count(*) filter (where contacts_scored.is_buyer) as buyers,
        avg(contacts_scored.propensity) as mean_propensity
    from segments
    inner join contacts_scored on segments.segment_id = contacts_scored.segment_id
    group by segments.segment_id, segments.segment_name
)

select * from final
