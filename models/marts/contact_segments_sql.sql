{#- One row per contact: its segment under the saved segment model, computed in SQL (macro
    score_segments) from the model's tables, so that any engine can score; equal to
    contact_segments on every contact (tests/assert_contact_segments_sql_matches_python.sql). -#}

{{ score_segments(
    ref('contact_features'),
    ref('segment_centroids'),
    ref('segment_feature_scaling')
) }}
