@ROOT@/work/site:
  archive.extracted:
    - source: @ROOT@/srv/site.zip
    - enforce_toplevel: False
    - overwrite: {{ pillar.get('overwrite', False) }}
