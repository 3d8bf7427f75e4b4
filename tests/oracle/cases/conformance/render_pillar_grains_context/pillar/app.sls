app:
  name: webapp
  port: 8080
