@ROOT@/work/app:
  archive.extracted:
    - source: salt://app.tar.gz
