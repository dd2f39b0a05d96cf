print("scim-bench")
