s:
  file.serialize:
    - name: @ROOT@/work/app.json
    - dataset_pillar: app:settings
    - formatter: json
