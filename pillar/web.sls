# Settings of the web formula (formulas/web); defaults in web/defaults.yaml.
web:
  port: 8080
  server_name: www.example.test
  greeting: Hello from saline
