app:
  settings:
    port: 80
    debug: false
